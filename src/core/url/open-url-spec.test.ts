// url specs: the object read through the persistent read cache must equal the served bytes, a
// second session must read what the first read without asking the server again, and the cache
// must be reused only for the same object version (never without an identity).
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveSpec, type SpecPlatform } from '../resolve-spec.ts';
import { DiskError } from '../disk/errors.ts';
import { FakeHttpFetch } from '../http/fake-http-fetch.ts';
import { HttpSourceError } from '../http/http-error.ts';
import { MemorySyncFile } from '../testing/memory-sync-file.ts';
import { memorySpecPlatform } from '../testing/memory-spec-platform.ts';
import { expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import type { DiskSpec } from '../spec.ts';
import type { OpenedUrlDisk, UrlCacheFiles } from './open-url-spec.ts';
import { cacheLayerId, cacheName, urlWithoutQuery } from './url-cache-key.ts';

const KiB = 1024;
const URL_A = 'https://example.test/images/disk.img?sig=1';

function memCache(store: Map<string, Uint8Array>, quota = Infinity): UrlCacheFiles & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    open: async (name) => ({
      data: new MemorySyncFile({ store, key: `${name}.data`, quotaBytes: quota }),
      meta: new MemorySyncFile({ store, key: `${name}.meta` }),
    }),
    remove: async (name) => {
      removed.push(name);
      store.delete(`${name}.data`);
      store.delete(`${name}.meta`);
    },
  };
}

function platform(fetch: FakeHttpFetch, cacheFiles: UrlCacheFiles | undefined, opened: OpenedUrlDisk[] = []): SpecPlatform {
  const http = { fetch, ...(cacheFiles && { cacheFiles }), cacheFlushDelayMs: 0, onOpened: (o: OpenedUrlDisk) => opened.push(o) };
  return memorySpecPlatform({ extra: { http } }).platform;
}

const spec = (persistentCache = true, url = URL_A): DiskSpec => ({ kind: 'url', url, format: 'raw', chunkSize: 64 * KiB, persistentCache });

/** GETs that asked for object bytes (not the probe HEAD). */
const gets = (f: FakeHttpFetch) => f.requests.filter((r) => r.method === 'GET').length;

describe('url spec with a persistent read cache', () => {
  it('serves the object exactly, then a second session reads it back with no range requests', async () => {
    const content = pattern(300 * KiB + 100, 7); // a partial last sector too
    const fetch = new FakeHttpFetch(content);
    const store = new Map<string, Uint8Array>();
    const opened: OpenedUrlDisk[] = [];
    const first = await resolveSpec(spec(), platform(fetch, memCache(store), opened));
    expect(first.disk.sectorCount()).toBe(Math.ceil(content.length / 512));
    expect(opened[0]!.cacheReused).toBe(false);
    const buf = new Uint8Array(first.disk.sectorCount() * 512);
    await first.disk.read(0, buf);
    expectSameBytes(buf.subarray(0, content.length), content);
    expect(buf.subarray(content.length).every((b) => b === 0)).toBe(true);
    expect(gets(fetch)).toBeGreaterThan(0);
    await first.disk.close();

    const fetch2 = new FakeHttpFetch(content);
    const opened2: OpenedUrlDisk[] = [];
    const second = await resolveSpec(spec(), platform(fetch2, memCache(store), opened2));
    expect(opened2[0]!.cacheReused).toBe(true);
    const again = new Uint8Array(buf.length);
    await second.disk.read(0, again);
    expectSameBytes(again, buf);
    expect(gets(fetch2)).toBe(0);
    expect(fetch2.requests.map((r) => r.method)).toEqual(['HEAD']);
    await second.disk.close();
  });

  it('a fill is durable without close once the flush has run (a reload does not close)', async () => {
    const content = pattern(128 * KiB, 3);
    const store = new Map<string, Uint8Array>();
    const opened: OpenedUrlDisk[] = [];
    const first = await resolveSpec(spec(), platform(new FakeHttpFetch(content), memCache(store), opened));
    await first.disk.read(10, new Uint8Array(8 * 512));
    await expect.poll(() => opened[0]!.cache!.state().dirty).toBe(false);
    // Snapshot the files as a crash would leave them, without closing the first session.
    const snapshot = new Map([...store].map(([k, v]) => [k, v.slice()]));
    const fetch2 = new FakeHttpFetch(content);
    const second = await resolveSpec(spec(), platform(fetch2, memCache(snapshot)));
    const got = new Uint8Array(8 * 512);
    await second.disk.read(10, got);
    expectSameBytes(got, content.subarray(10 * 512, 18 * 512));
    expect(gets(fetch2)).toBe(0);
    await first.disk.close();
    await second.disk.close();
  });

  it('is not reused for another version of the object, and not kept without an identity', async () => {
    const content = pattern(64 * KiB, 1);
    const store = new Map<string, Uint8Array>();
    const a = await resolveSpec(spec(), platform(new FakeHttpFetch(content), memCache(store)));
    await a.disk.read(0, new Uint8Array(64 * KiB));
    await a.disk.close();

    const changed = new FakeHttpFetch(pattern(64 * KiB, 2));
    changed.etag = '"v2"';
    const opened: OpenedUrlDisk[] = [];
    const b = await resolveSpec(spec(), platform(changed, memCache(store), opened));
    expect(opened[0]!.cacheReused).toBe(false);
    const got = new Uint8Array(64 * KiB);
    await b.disk.read(0, got);
    expectSameBytes(got, pattern(64 * KiB, 2));
    await b.disk.close();

    const anonymous = new FakeHttpFetch(content);
    anonymous.etag = undefined;
    anonymous.lastModified = undefined;
    const opened2: OpenedUrlDisk[] = [];
    const store2 = new Map<string, Uint8Array>();
    const c = await resolveSpec(spec(), platform(anonymous, memCache(store2), opened2));
    expect(opened2[0]!.cache).toBeUndefined();
    expect(opened2[0]!.cacheOff).toMatch(/ETag/);
    await c.disk.read(0, new Uint8Array(4096));
    await c.disk.close();
    expect(store2.size).toBe(0);
  });

  it('discards the cache when the object changes mid-session, and never serves mixed bytes', async () => {
    const content = pattern(256 * KiB, 4);
    const fetch = new FakeHttpFetch(content);
    const store = new Map<string, Uint8Array>();
    const files = memCache(store);
    const opened: OpenedUrlDisk[] = [];
    const s = await resolveSpec({ kind: 'url', url: URL_A, format: 'raw', chunkSize: 64 * KiB, cacheBytes: 64 * KiB, persistentCache: true }, platform(fetch, files, opened));
    await s.disk.read(0, new Uint8Array(512));
    fetch.content = pattern(256 * KiB, 5);
    fetch.etag = '"v2"';
    const err = await s.disk.read(300, new Uint8Array(512)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DiskError);
    expect((err as DiskError).code).toBe('NETWORK');
    expect(((err as DiskError).cause as HttpSourceError | undefined)?.reason ?? (err as HttpSourceError).reason).toBe('changed');
    await expect.poll(() => files.removed.length).toBe(1);
    expect(opened[0]!.cache!.state().mode).toBe('discarded');
    expect(store.size).toBe(0);
    // The first sector came from the discarded cache before: now it must not be served from it.
    await expect(s.disk.read(0, new Uint8Array(512))).rejects.toBeInstanceOf(DiskError);
    await s.disk.close();
  });

  it('a full cache (QUOTA) stops filling but never fails a read', async () => {
    const content = pattern(512 * KiB, 9);
    const store = new Map<string, Uint8Array>();
    const opened: OpenedUrlDisk[] = [];
    const s = await resolveSpec(spec(), platform(new FakeHttpFetch(content), memCache(store, 96 * KiB), opened));
    const got = new Uint8Array(content.length);
    for (let off = 0; off < content.length; off += 32 * KiB) await s.disk.read(off / 512, got.subarray(off, off + 32 * KiB));
    expectSameBytes(got, content);
    const state = opened[0]!.cache!.state();
    expect(state.mode).toBe('stopped');
    expect(state.error?.code).toBe('QUOTA');
    await s.disk.close();
  });

  it('opens a fixed VHD (the sample) through the cache, format over the cached object bytes', async () => {
    const sample = new Uint8Array(fs.readFileSync(new URL('../../../public/sample.vhd', import.meta.url)));
    const store = new Map<string, Uint8Array>();
    const url = 'https://example.test/sample.vhd';
    const first = await resolveSpec({ kind: 'url', url, persistentCache: true }, platform(new FakeHttpFetch(sample), memCache(store)));
    expect(first.disk.sectorCount()).toBe((sample.length - 512) / 512);
    const got = new Uint8Array(1024 * KiB);
    await first.disk.read(100, got);
    expectSameBytes(got, sample.subarray(100 * 512, 100 * 512 + got.length));
    expect(first.root.children[0]?.role).toBe('layered');
    await first.disk.close();
    const fetch2 = new FakeHttpFetch(sample);
    const second = await resolveSpec({ kind: 'url', url, persistentCache: true }, platform(fetch2, memCache(store)));
    const again = new Uint8Array(got.length);
    await second.disk.read(100, again);
    expectSameBytes(again, got);
    expect(gets(fetch2)).toBe(0);
    await second.disk.close();
  });
});

describe('url cache keys', () => {
  it('name by the URL without its query; id by URL, identity, size and sector size', () => {
    expect(urlWithoutQuery('https://h/a.vhd?x=1#f')).toBe('https://h/a.vhd');
    expect(cacheName('https://h/a.vhd?sig=1')).toBe(cacheName('https://h/a.vhd?sig=2'));
    expect(cacheName('https://h/a.vhd')).not.toBe(cacheName('https://h/b.vhd'));
    expect(cacheName('https://h/a.vhd')).toMatch(/^url-[0-9a-f]{16}$/);
    const base = cacheLayerId('https://h/a', '"e1"', 1000, 512);
    for (const other of [cacheLayerId('https://h/b', '"e1"', 1000, 512), cacheLayerId('https://h/a', '"e2"', 1000, 512), cacheLayerId('https://h/a', '"e1"', 1001, 512), cacheLayerId('https://h/a', '"e1"', 1000, 4096)]) {
      expect(Buffer.from(other).equals(Buffer.from(base))).toBe(false);
    }
    expect(Buffer.from(cacheLayerId('https://h/a?q', '"e1"', 1000, 512)).equals(Buffer.from(base))).toBe(true);
  });
});
