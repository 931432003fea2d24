// UrlSources: the statistics and chunk maps the stack panel polls, for the stack a URL disk was
// opened under, and nothing for other stacks or after the stack is forgotten.
import { describe, expect, it } from 'vitest';
import { DiskError } from '../../src/core/disk/errors.ts';
import { FakeHttpFetch } from '../../src/core/http/fake-http-fetch.ts';
import { resolveSpec, type SpecPlatform } from '../../src/core/resolve-spec.ts';
import { UrlSources } from './url-sources.ts';

const KiB = 1024;

function basePlatform(fetch: FakeHttpFetch): SpecPlatform {
  return {
    openFile: () => Promise.reject(new DiskError('IO', 'unused')),
    blobSource: () => {
      throw new Error('unused');
    },
    http: { fetch },
  };
}

describe('UrlSources', () => {
  it('reports requests, bytes and which chunks are in memory for the stack that opened the URL', async () => {
    const content = new Uint8Array(256 * KiB).map((_, i) => i & 0xff);
    const fetch = new FakeHttpFetch(content);
    const sources = new UrlSources();
    const { disk } = await resolveSpec({ kind: 'url', url: 'https://h.test/a.img', format: 'raw', chunkSize: 64 * KiB, persistentCache: true }, sources.platformFor(basePlatform(fetch), 's1'));
    await disk.read((128 * KiB) / 512, new Uint8Array(4 * KiB));
    const [info, ...rest] = await sources.info('s1');
    expect(rest).toEqual([]);
    expect(info!.url).toBe('https://h.test/a.img');
    expect(info!.format).toBe('raw');
    expect(info!.chunkCount).toBe(4);
    // Chunk 2 was read; chunk 1 never was (opening reads only the object's first and last bytes).
    expect(info!.memory[2]).toBe(1);
    expect(info!.memory[1]).toBe(0);
    expect(info!.stats.requests).toBe(fetch.requests.length);
    expect(info!.stats.bytesServed).toBe(4 * KiB + 2 * 512); // and the first and last sector read at open
    expect(info!.stats.latency.count).toBeGreaterThan(0);
    expect(info!.persistent.mode).toBe('off');
    expect(info!.persistent.reason).toMatch(/persistent storage/);
    expect(await sources.info('s2')).toEqual([]);
    sources.forget('s1');
    expect(await sources.info('s1')).toEqual([]);
    await disk.close();
  });
});
