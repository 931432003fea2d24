// The test server's own behaviour, checked with plain fetch, so the range-source tests that rely
// on it stand on something verified.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pattern } from '../../core/testing/disk-conformance.ts';
import { HttpTestServer } from './http-test-server.ts';

const content = pattern(10_000, 3);
let server: HttpTestServer;
const get = (headers: Record<string, string> = {}, path = '/f') => fetch(server.url(path), { headers: { 'Accept-Encoding': 'identity', ...headers } });
const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

beforeAll(async () => {
  server = await HttpTestServer.start({ files: { '/f': content }, cors: true, redirects: { '/r': '/f' } });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('HttpTestServer', () => {
  it('listens on loopback only and serves HEAD, ranges, suffix ranges and 416 like a correct server', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const head = await fetch(server.url('/f'), { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('10000');
    const etag = head.headers.get('etag')!;
    const r = await get({ Range: 'bytes=100-199' });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe('bytes 100-199/10000');
    expect([...(await bytes(r))]).toEqual([...content.subarray(100, 200)]);
    expect((await get({ Range: 'bytes=-10' })).headers.get('content-range')).toBe('bytes 9990-9999/10000');
    const past = await get({ Range: 'bytes=20000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */10000');
    expect((await get({ Range: 'bytes=0-1', 'If-Range': '"other"' })).status).toBe(200);
    expect((await get({ Range: 'bytes=0-1', 'If-Range': etag })).status).toBe(206);
    expect((await get({ 'If-Match': '"other"' })).status).toBe(412);
    expect((await get({}, '/missing')).status).toBe(404);
    expect((await get({ Range: 'bytes=0-1' }, '/r')).status).toBe(206);
    expect(server.countRange('bytes=100-199', '/f')).toBe(1);
  });

  it('answers CORS preflights and exposes the range headers when asked to', async () => {
    const pre = await fetch(server.url('/f'), { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('If-Range');
    expect((await get({ Range: 'bytes=0-1' })).headers.get('access-control-expose-headers')).toContain('Content-Range');
  });

  it('misbehaves as each mode says', async () => {
    server.mode = 'ignore-range';
    expect((await get({ Range: 'bytes=0-1' })).status).toBe(200);
    server.mode = 'short-body';
    expect((await bytes(await get({ Range: 'bytes=0-99' }))).length).toBe(50);
    server.mode = 'wrong-content-range';
    expect((await get({ Range: 'bytes=0-99' })).headers.get('content-range')).toBe('bytes 1-100/10000');
    server.mode = 'gzip';
    const zipped = await get({ Range: 'bytes=0-99' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('content-length')).not.toBe('100'); // the gzip stream's length, not the range's
    expect([...(await bytes(zipped))]).toEqual([...content.subarray(0, 100)]); // Node's fetch decodes it
    server.mode = 'drop-mid-body';
    await expect(get({ Range: 'bytes=0-9999' }).then(bytes)).rejects.toThrow();
    server.mode = 'etag-changes';
    const a = await fetch(server.url('/f'), { method: 'HEAD' });
    const b = await get({ Range: 'bytes=0-9', 'If-Range': a.headers.get('etag')! });
    expect(b.status).toBe(200);
    expect(b.headers.get('etag')).not.toBe(a.headers.get('etag'));
    expect((await bytes(b))[0]).not.toBe(content[0]);
    server.reset();
    server.mode = 'transient-503';
    server.transientFailures = 2;
    expect([(await get()).status, (await get()).status, (await get({ Range: 'bytes=0-0' })).status]).toEqual([503, 503, 206]);
    server.mode = 'slow';
    server.delayMs = 100;
    const t = performance.now();
    await get({ Range: 'bytes=0-0' });
    expect(performance.now() - t).toBeGreaterThanOrEqual(95);
  });
});
