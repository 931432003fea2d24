/**
 * The URL disks of each open stack, so the page can poll their statistics and cached chunks
 * (url-cache-api.ts). The resolver tells the platform of each URL disk it opens
 * (`UrlPlatform.onOpened`); `platformFor(id)` gives the resolver a platform that files them under
 * the stack being opened, and `forget` drops them when the stack closes (the stack closes them).
 *
 * Errors: none of its own; a stack without URL disks has an empty list.
 */
import type { SpecPlatform } from '../../src/core/resolve-spec.ts';
import type { OpenedUrlDisk } from '../../src/core/url/open-url-spec.ts';
import { URL_CACHE_SECTOR_SIZE } from '../../src/core/url/open-url-spec.ts';
import { LatencyHistogram } from '../../src/core/stats/latency-histogram.ts';
import type { UrlSourceInfo } from '../url-cache-api.ts';

/** Largest number of buckets in a chunk map sent to the page. */
export const MAX_CHUNK_BUCKETS = 2048;

export class UrlSources {
  readonly #byStack = new Map<string, OpenedUrlDisk[]>();

  /** `base` with URL disks recorded under stack `id`. */
  platformFor(base: SpecPlatform, id: string): SpecPlatform {
    if (!base.http) return base;
    const previous = base.http.onOpened;
    return {
      ...base,
      http: {
        ...base.http,
        onOpened: (opened) => {
          previous?.(opened);
          const list = this.#byStack.get(id) ?? [];
          list.push(opened);
          this.#byStack.set(id, list);
        },
      },
    };
  }

  forget(id: string): void {
    this.#byStack.delete(id);
  }

  async info(id: string): Promise<UrlSourceInfo[]> {
    return Promise.all((this.#byStack.get(id) ?? []).map((o) => describe(o)));
  }
}

async function describe(o: OpenedUrlDisk): Promise<UrlSourceInfo> {
  const s = o.source;
  const snap = s.stats();
  const hist = LatencyHistogram.fromSnapshot(snap.latency);
  const [p50, p90, p99] = hist.percentiles([50, 90, 99]).map((p) => p.ns);
  const chunkSize = s.settings.chunkSize;
  const chunkCount = Math.max(1, Math.ceil(s.size / chunkSize));
  const buckets = Math.min(chunkCount, MAX_CHUNK_BUCKETS);
  const memory = new Float64Array(buckets);
  const per = chunkCount / buckets;
  for (const c of s.cachedChunks()) {
    const b = Math.min(buckets - 1, Math.floor(c / per));
    memory[b]! += 1 / per;
  }
  for (let b = 0; b < buckets; b++) memory[b] = Math.min(1, memory[b]!);
  const cache = o.cache;
  let persistent: UrlSourceInfo['persistent'];
  if (!cache) persistent = { mode: 'off', reused: false, dirty: false, bytesPresent: 0, ...(o.cacheOff !== undefined && { reason: o.cacheOff }) };
  else {
    const st = cache.state();
    // The cache is in 512-byte sectors of the object; its map in chunk buckets lines up with `memory`.
    const sectors = cache.sectorCount();
    const mapSectors = Math.min(sectors, Math.ceil((chunkCount * chunkSize) / URL_CACHE_SECTOR_SIZE));
    const map = st.mode === 'discarded' ? new Float64Array(buckets) : await cache.occupancyMap(buckets, 0, mapSectors);
    persistent = {
      mode: st.mode, reused: o.cacheReused, dirty: st.dirty, bytesPresent: st.bytesPresent, map,
      ...(o.cacheName !== undefined && { name: o.cacheName }),
      ...(st.error && { reason: `${st.error.code}: ${st.error.message}` }),
    };
  }
  return {
    url: o.url, format: o.format, sizeBytes: s.size, ...(s.identity !== undefined && { identity: s.identity }),
    chunkSize, chunkCount, chunkBuckets: buckets, memory,
    stats: {
      requests: snap.requests, retries: snap.retries, failures: snap.failures, readaheadRequests: snap.readaheadRequests,
      bytesFetched: snap.bytesFetched, bytesServed: snap.bytesServed, hitRatio: snap.hitRatio, inFlight: snap.inFlight, peakInFlight: snap.peakInFlight,
      latency: { count: snap.latency.count, p50Ns: p50 ?? 0, p90Ns: p90 ?? 0, p99Ns: p99 ?? 0, maxNs: snap.latency.maxNs },
    },
    persistent,
    parents: o.parents.map((p) => p.url),
  };
}
