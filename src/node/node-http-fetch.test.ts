// The HTTP range source end to end: Node's fetch adapter against the misbehaving loopback server,
// one test per server mode. Every bad mode must end in its typed error, never in wrong bytes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HttpRangeSource, type HttpRangeSourceOptions } from '../core/http/http-range-source.ts';
import { HttpSourceError, type HttpFailure } from '../core/http/http-error.ts';
import { BlobDisk } from '../core/backends/blob-disk.ts';
import { expectDiskError, expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { nodeHttpFetch } from './node-http-fetch.ts';
import { HttpTestServer } from './testing/http-test-server.ts';

const KiB = 1024;
const content = pattern(300 * KiB + 17, 11);
let server: HttpTestServer;
const url = () => server.url('/disk.img');

function open(options: Partial<HttpRangeSourceOptions> = {}, at = url()) {
  return HttpRangeSource.open(at, { fetch: nodeHttpFetch, chunkSize: 16 * KiB, retryDelayMs: 20, deadlineMs: 5000, ...options });
}

async function expectReason(p: Promise<unknown>, reason: HttpFailure): Promise<HttpSourceError> {
  const e = await expectDiskError(p, 'NETWORK');
  expect(e).toBeInstanceOf(HttpSourceError);
  expect((e as HttpSourceError).reason, e.message).toBe(reason);
  return e as HttpSourceError;
}

beforeAll(async () => {
  server = await HttpTestServer.start({ files: { '/disk.img': content, '/empty.img': new Uint8Array(0) }, redirects: { '/moved.img': '/disk.img' } });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('HttpRangeSource over Node fetch and the test server', () => {
  it("'correct': reads exact bytes, learns size and ETag from one HEAD, and counts one GET per range", async () => {
    const source = await open();
    expect(source.size).toBe(content.length);
    expect(source.identity).toMatch(/^etag "v0-/);
    expectSameBytes(await source.read(20_000, 50_000), content.subarray(20_000, 70_000));
    expectSameBytes(await source.read(content.length - 17, 17), content.subarray(content.length - 17));
    expect(server.log.filter((r) => r.method === 'HEAD')).toHaveLength(1);
    expect(server.countRange('bytes=16384-81919')).toBe(1);
    expect(server.countRange(`bytes=294912-${content.length - 1}`)).toBe(1);
    await source.close();
  });

  it('follows a redirect, and probes with a ranged GET when HEAD is refused', async () => {
    const moved = await open({}, server.url('/moved.img'));
    expectSameBytes(await moved.read(1, 10), content.subarray(1, 11));
    server.headRefused = true;
    const source = await open();
    expect(source.size).toBe(content.length);
    expectSameBytes(await source.read(100, 1000), content.subarray(100, 1100));
    expect(server.log.filter((r) => r.method === 'GET' && r.status === 206)).toHaveLength(2); // the moved read, then only the probe
    expect(server.countRange('bytes=0-16383', '/disk.img')).toBe(2);
    expect(server.countRange('bytes=0-16383', '/moved.img')).toBe(1);
    const empty = await open({}, server.url('/empty.img'));
    expect(empty.size).toBe(0);
  });

  it('a missing object is a NETWORK status error naming 404', async () => {
    const e = await expectReason(open({}, server.url('/nope.img')), 'status');
    expect(e.status).toBe(404);
  });

  const badModes: Array<[typeof server.mode, HttpFailure, number]> = [
    ['ignore-range', 'ignores-range', 1],
    ['status-416', 'status', 1],
    ['short-body', 'short-body', 1],
    ['drop-mid-body', 'dropped', 2],
    ['wrong-content-range', 'wrong-range', 1],
    ['gzip', 'encoded', 1],
    ['etag-changes', 'changed', 1],
  ];
  for (const [mode, reason, attempts] of badModes) {
    it(`'${mode}' ends in NETWORK/${reason} after ${attempts} attempt(s), never in bytes`, async () => {
      const source = await open();
      expectSameBytes(await source.read(0, 100), content.subarray(0, 100));
      server.mode = mode;
      const e = await expectReason(source.read(64 * KiB, 20 * KiB), reason);
      expect(e.message).toContain(url());
      expect(server.countRange('bytes=65536-98303')).toBe(attempts);
      // Nothing from the failed request was cached: a good server afterwards gives the right bytes.
      server.mode = 'correct';
      if (mode !== 'etag-changes') expectSameBytes(await source.read(64 * KiB, 20 * KiB), content.subarray(64 * KiB, 84 * KiB));
      await source.close();
    });
  }

  it("'etag-changes' after open: the old object's bytes are never mixed with the new one's", async () => {
    const source = await open({ readaheadBytes: 0 });
    await source.read(0, 16 * KiB);
    server.mode = 'etag-changes';
    await expectReason(source.read(16 * KiB, 16 * KiB), 'changed');
    await expectReason(source.read(0, 32 * KiB), 'changed');
    expect(source.stats().bytesServed).toBe(16 * KiB);
  });

  it("'transient-503': succeeds after one retry; two failures in a row are an error", async () => {
    const source = await open();
    server.mode = 'transient-503';
    server.transientFailures = 1;
    expectSameBytes(await source.read(0, 10), content.subarray(0, 10));
    expect(source.stats().retries).toBe(1);
    expect(server.log.filter((r) => r.method === 'GET').map((r) => r.status)).toEqual([503, 206]);
    server.transientFailures = 2;
    const e = await expectReason(source.read(32 * KiB, 10), 'status');
    expect(e.status).toBe(503);
    server.transientFailures = 1;
    expect((await open()).size).toBe(content.length); // the HEAD retries too
  });

  it("'slow': a response slower than the deadline is a timeout; a patient source reads it", async () => {
    const source = await open({ deadlineMs: 150 });
    server.mode = 'slow';
    server.delayMs = 400;
    const e = await expectReason(source.read(0, 10), 'timeout');
    expect(e.message).toMatch(/150 ms/);
    server.delayMs = 50;
    const patient = await open({ deadlineMs: 5000 });
    expectSameBytes(await patient.read(0, 10), content.subarray(0, 10));
  });

  it('a BlobDisk over it reads sectors and reports a changed object as NETWORK with the LBA', async () => {
    const disk = new BlobDisk(await open());
    const buf = new Uint8Array(4 * 512);
    await disk.read(10, buf);
    expectSameBytes(buf, content.subarray(5120, 5120 + 2048));
    server.mode = 'etag-changes';
    const e = await expectDiskError(disk.read(200, new Uint8Array(512)), 'NETWORK');
    expect(e.lba).toBe(200);
    await disk.close();
  });

  it('property: random reads equal the served bytes for random chunk and cache sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 512, max: 64 * KiB }),
        fc.integer({ min: 0, max: 256 * KiB }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 * KiB })), { minLength: 1, maxLength: 10 }),
        async (chunkSize, cacheBytes, maxInFlight, reads) => {
          const source = await open({ chunkSize, cacheBytes, maxInFlight, maxRequestBytes: 4 * chunkSize });
          await Promise.all(
            reads.map(async ([at, len]) => {
              const offset = at % content.length;
              const length = Math.min(len, content.length - offset);
              expectSameBytes(await source.read(offset, length), content.subarray(offset, offset + length));
            }),
          );
          await source.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
