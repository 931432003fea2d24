import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HttpRangeSource, type HttpRangeSourceOptions } from './http-range-source.ts';
import { FakeHttpFetch } from './fake-http-fetch.ts';
import { HttpSourceError, type HttpFailure } from './http-error.ts';
import type { Clock } from '../ports/clock.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { DiskConfigError } from '../disk/errors.ts';

const URL = 'https://example.test/disk.img';
const KiB = 1024;

/** A clock whose sleeps pass instantly but advance time, recording what was asked. */
function fakeClock(): Clock & { sleeps: number[]; t: number } {
  return {
    t: 0,
    sleeps: [],
    nowNs() {
      return this.t;
    },
    async sleep(ns: number) {
      this.sleeps.push(ns);
      this.t += ns;
    },
  };
}

async function open(fetch: FakeHttpFetch, options: Partial<HttpRangeSourceOptions> = {}) {
  return HttpRangeSource.open(URL, { fetch, clock: fakeClock(), chunkSize: 4 * KiB, retryDelayMs: 10, ...options });
}

async function expectHttpError(p: Promise<unknown>, reason: HttpFailure, code: 'NETWORK' | 'ABORTED' | 'OUT_OF_RANGE' = 'NETWORK'): Promise<HttpSourceError> {
  const e = await expectDiskError(p, code);
  expect(e).toBeInstanceOf(HttpSourceError);
  expect((e as HttpSourceError).reason).toBe(reason);
  return e as HttpSourceError;
}

describe('HttpRangeSource over a fake server', () => {
  const content = pattern(100 * KiB + 123, 1);

  it('learns size and identity from HEAD and reads exact ranges with Range, If-Range and identity encoding', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch);
    expect(source.size).toBe(content.length);
    expect(source.identity).toBe('etag "v1"');
    expect(source.validated).toBe(true);
    expectSameBytes(await source.read(5000, 3000), content.subarray(5000, 8000));
    expect(fetch.requests[0]!.method).toBe('HEAD');
    expect(fetch.gets[0]!.headers).toMatchObject({ Range: 'bytes=4096-8191', 'If-Range': '"v1"', 'Accept-Encoding': 'identity' });
    expectSameBytes(await source.read(content.length - 10, 10), content.subarray(content.length - 10));
    expect(source.stats()).toMatchObject({ requests: 3, chunkMisses: 2, bytesServed: 3010 });
  });

  it('coalesces adjacent misses into one request, bounded by maxRequestBytes, and serves repeats from the cache', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch, { maxRequestBytes: 16 * KiB });
    expectSameBytes(await source.read(0, 40 * KiB), content.subarray(0, 40 * KiB));
    expect(fetch.gets.map((r) => r.headers['Range'])).toEqual(['bytes=0-16383', 'bytes=16384-32767', 'bytes=32768-40959']);
    expectSameBytes(await source.read(1000, 30 * KiB), content.subarray(1000, 1000 + 30 * KiB));
    expect(fetch.gets).toHaveLength(3);
    const stats = source.stats();
    expect(stats.chunkHits).toBe(8);
    expect(stats.hitRatio).toBeCloseTo(8 / 18);
    expect(stats.bytesFetched).toBe(40 * KiB);
    expect(stats.latency.count).toBe(4);
  });

  it('fetches a chunk once when concurrent reads want it (de-duplication)', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch, { readaheadBytes: 0 });
    fetch.held = true;
    const reads = [source.read(0, 100), source.read(200, 100), source.read(4000, 200)];
    await Promise.resolve();
    fetch.release();
    const [a, b, c] = await Promise.all(reads);
    expectSameBytes(a!, content.subarray(0, 100));
    expectSameBytes(b!, content.subarray(200, 300));
    expectSameBytes(c!, content.subarray(4000, 4200));
    expect(fetch.gets.map((r) => r.headers['Range'])).toEqual(['bytes=0-4095', 'bytes=4096-8191']);
    expect(source.stats().chunkWaits).toBe(2);
  });

  it('keeps at most maxInFlight requests outstanding', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch, { maxInFlight: 2, maxRequestBytes: 4 * KiB, readaheadBytes: 0 });
    fetch.held = true;
    const all = source.read(0, 24 * KiB);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(source.stats().inFlight).toBe(2);
    fetch.release();
    // Later requests are not held; run them out.
    expectSameBytes(await all, content.subarray(0, 24 * KiB));
    expect(fetch.peakInFlight).toBeLessThanOrEqual(2);
    expect(source.stats().peakInFlight).toBe(2);
    expect(fetch.gets).toHaveLength(6);
  });

  it('reads ahead in large requests once reads are sequential, and not for random reads', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch, { readaheadBytes: 32 * KiB, maxRequestBytes: 16 * KiB });
    for (let at = 0; at < 3 * 4 * KiB; at += 4 * KiB) await source.read(at, 4 * KiB);
    await new Promise((r) => setTimeout(r, 0));
    const ranges = fetch.gets.map((r) => r.headers['Range']);
    expect(ranges.slice(3)).toEqual(['bytes=12288-28671', 'bytes=28672-45055']);
    expect(source.stats().readaheadRequests).toBe(2);
    const before = fetch.gets.length;
    for (let at = 12 * KiB; at < 44 * KiB; at += 4 * KiB) expectSameBytes(await source.read(at, 4 * KiB), content.subarray(at, at + 4 * KiB));
    // Half the window consumed: the next readahead goes out as one batch, not a request per read.
    await new Promise((r) => setTimeout(r, 0));
    expect(fetch.gets.length - before).toBeLessThanOrEqual(2);

    const randomFetch = new FakeHttpFetch(content);
    const random = await open(randomFetch, { readaheadBytes: 32 * KiB });
    for (const at of [40, 8, 90, 20, 60, 0]) await random.read(at * KiB, 100);
    expect(random.stats().readaheadRequests).toBe(0);
    expect(randomFetch.gets).toHaveLength(6);
  });

  it('bounds cached memory with LRU eviction', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch, { cacheBytes: 12 * KiB, readaheadBytes: 0 });
    for (const chunk of [0, 1, 2]) await source.read(chunk * 4 * KiB, 10);
    await source.read(0, 10); // 0 is now the most recent
    await source.read(3 * 4 * KiB, 10); // evicts 1
    expect(source.cachedChunks()).toEqual([0, 2, 3]);
    expect(source.stats().cachedBytes).toBe(12 * KiB);
    await source.read(4 * KiB, 10);
    expect(fetch.gets).toHaveLength(5);
  });

  it('retries a transient failure once after the backoff, on the injected clock', async () => {
    const fetch = new FakeHttpFetch(content);
    const clock = fakeClock();
    const source = await open(fetch, { clock, retryDelayMs: 40 });
    let failures = 1;
    fetch.override = (r) => (r.method === 'GET' && failures-- > 0 ? { status: 503 } : undefined);
    expectSameBytes(await source.read(0, 10), content.subarray(0, 10));
    expect(clock.sleeps).toEqual([40e6]);
    expect(source.stats()).toMatchObject({ retries: 1, failures: 1 });
    fetch.override = (r) => (r.method === 'GET' ? { status: 502 } : undefined);
    const e = await expectHttpError(source.read(5 * 4 * KiB, 10), 'status');
    expect(e.status).toBe(502);
    expect(e.message).toMatch(/after 2 attempts/);
    expect(fetch.gets).toHaveLength(4);
  });

  it('does not retry past the deadline', async () => {
    const fetch = new FakeHttpFetch(content);
    const clock = fakeClock();
    const source = await open(fetch, { clock, retryDelayMs: 100, deadlineMs: 50 });
    fetch.override = (r) => (r.method === 'GET' ? { status: 503 } : undefined);
    await expectHttpError(source.read(0, 10), 'status');
    expect(fetch.gets).toHaveLength(1);
  });

  it('retries a connection dropped mid-body, and does not retry what the server will repeat', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch);
    fetch.override = (r) => (r.method === 'GET' ? { status: 206, headers: { 'Content-Range': 'bytes 0-4095/' + content.length, ETag: '"v1"' }, body: content.slice(0, 4096), dropAfter: 1000 } : undefined);
    const e = await expectHttpError(source.read(0, 10), 'dropped');
    expect(e.message).toMatch(/1000 of 4096/);
    expect(fetch.gets).toHaveLength(2);
    fetch.override = (r) => (r.method === 'GET' ? { status: 200, headers: { ETag: '"v1"' }, body: content } : undefined);
    await expectHttpError(source.read(0, 10), 'ignores-range');
    expect(fetch.gets).toHaveLength(3);
  });

  it('hands out each chunk of a large request as soon as it is complete, even if the connection breaks later', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch, { readaheadBytes: 0 });
    fetch.override = (r) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(r.headers['Range'] ?? '');
      if (m === null) return undefined;
      const [first, last] = [Number(m[1]), Number(m[2])];
      const headers = { 'Content-Range': `bytes ${first}-${last}/${content.length}`, ETag: '"v1"' };
      return { status: 206, headers, body: content.slice(first, last + 1), dropAfter: 4096 + 100 };
    };
    const both = source.read(0, 8192);
    const firstOnly = source.read(10, 20);
    expectSameBytes(await firstOnly, content.subarray(10, 30));
    await expectHttpError(both, 'dropped');
    expect(source.cachedChunks()).toEqual([0]);
  });

  it('reports a changed object as NETWORK/changed, never mixing versions', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch);
    await source.read(0, 10);
    fetch.content = pattern(content.length, 2);
    fetch.etag = '"v2"';
    const e = await expectHttpError(source.read(50 * KiB, 10), 'changed');
    expect(e.message).toMatch(/"v1" became "v2"/);
    // A resized object is also a change, even without an ETag.
    const noEtag = new FakeHttpFetch(content);
    noEtag.etag = undefined;
    const weak = await open(noEtag);
    expect(weak.identity).toMatch(/^last-modified/);
    expect(noEtag.gets.length).toBe(0);
    noEtag.content = pattern(content.length + 1, 3);
    await expectHttpError(weak.read(0, 10), 'changed');
  });

  it('uses Last-Modified for If-Range when the ETag is weak', async () => {
    const fetch = new FakeHttpFetch(content);
    fetch.etag = 'W/"weak"';
    const source = await open(fetch);
    await source.read(0, 10);
    expect(fetch.gets[0]!.headers['If-Range']).toBe(fetch.lastModified);
  });

  it('refuses an https to http redirect', async () => {
    const fetch = new FakeHttpFetch(content);
    fetch.override = () => ({ status: 200, url: 'http://example.test/disk.img', headers: { 'Content-Length': '10' } });
    await expectHttpError(open(fetch), 'downgrade');
  });

  it('falls back to a ranged GET when HEAD is refused, keeping its body as the first chunk', async () => {
    const fetch = new FakeHttpFetch(content);
    fetch.override = (r) => (r.method === 'HEAD' ? { status: 405 } : undefined);
    const source = await open(fetch);
    expect(source.size).toBe(content.length);
    expect(source.identity).toBe('etag "v1"');
    expectSameBytes(await source.read(100, 200), content.subarray(100, 300));
    expect(fetch.gets).toHaveLength(1);
    const empty = new FakeHttpFetch(new Uint8Array(0));
    empty.override = (r) => (r.method === 'HEAD' ? { status: 405 } : undefined);
    expect((await open(empty)).size).toBe(0);
  });

  it('tells a browser user which CORS headers the server must send', async () => {
    const fetch = new FakeHttpFetch(content, { enforcesCors: true });
    fetch.override = () => {
      throw new TypeError('Failed to fetch');
    };
    const e = await expectHttpError(open(fetch), 'transport');
    expect(e.message).toMatch(/CORS/);
    expect(e.message).toMatch(/Access-Control-Expose-Headers: Content-Range, Content-Length, ETag/);
    const hidden = new FakeHttpFetch(content, { enforcesCors: true });
    const source = await open(hidden);
    hidden.override = (r) => (r.method === 'GET' ? { status: 206, headers: {}, body: content.slice(0, 4096) } : undefined);
    expect((await expectHttpError(source.read(0, 10), 'wrong-range')).message).toMatch(/Access-Control-Expose-Headers/);
  });

  it('rejects reads outside the object as OUT_OF_RANGE and reads after close as ABORTED, aborting requests in flight', async () => {
    const fetch = new FakeHttpFetch(content);
    const source = await open(fetch);
    await expectHttpError(source.read(content.length - 1, 2), 'range', 'OUT_OF_RANGE');
    await expectHttpError(source.read(-1, 1), 'range', 'OUT_OF_RANGE');
    expect((await source.read(content.length, 0)).length).toBe(0);
    await expectHttpError(source.read(0, -1), 'range', 'OUT_OF_RANGE');
    const into = new Uint8Array(5000).fill(7);
    await source.readInto(60_000, into);
    expectSameBytes(into, content.subarray(60_000, 65_000));
    await expectHttpError(source.readInto(content.length - 10, into), 'range', 'OUT_OF_RANGE');
    fetch.held = true;
    const pending = source.read(0, 10);
    await Promise.resolve();
    await source.close();
    await expectHttpError(pending, 'closed', 'ABORTED');
    await expectHttpError(source.read(0, 10), 'closed', 'ABORTED');
  });

  it('rejects bad options and non-http URLs with DiskConfigError', async () => {
    const fetch = new FakeHttpFetch(content);
    await expect(open(fetch, { chunkSize: 0 })).rejects.toBeInstanceOf(DiskConfigError);
    await expect(open(fetch, { maxInFlight: 1.5 })).rejects.toBeInstanceOf(DiskConfigError);
    await expect(HttpRangeSource.open('file:///etc/passwd', { fetch })).rejects.toBeInstanceOf(DiskConfigError);
  });

  it('property: random (concurrent) reads equal the object for random chunk, cache, request and in-flight sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 20_000 }),
        fc.record({
          chunkSize: fc.integer({ min: 64, max: 5000 }),
          cacheBytes: fc.integer({ min: 0, max: 30_000 }),
          maxRequestBytes: fc.integer({ min: 0, max: 20_000 }),
          maxInFlight: fc.integer({ min: 1, max: 4 }),
          readaheadBytes: fc.integer({ min: 0, max: 20_000 }),
        }),
        fc.array(fc.array(fc.tuple(fc.nat(), fc.nat({ max: 6000 })), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        async (size, options, batches) => {
          const object = pattern(size, size + 7);
          const fetch = new FakeHttpFetch(object);
          const source = await open(fetch, options);
          for (const batch of batches) {
            const reads = batch.map(([at, len]) => {
              const offset = size === 0 ? 0 : at % size;
              const length = Math.min(len, size - offset);
              return source.read(offset, length).then((bytes) => expectSameBytes(bytes, object.subarray(offset, offset + length)));
            });
            await Promise.all(reads);
          }
          expect(source.stats().cachedBytes).toBeLessThanOrEqual(options.cacheBytes);
          expect(fetch.peakInFlight).toBeLessThanOrEqual(options.maxInFlight + 1);
        },
      ),
      { numRuns: 400 },
    );
  });
});
