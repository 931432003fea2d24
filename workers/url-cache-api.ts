/**
 * The disk worker's calls about disks opened by URL (`url` specs), declared type-only like api.ts
 * (which extends `UrlCacheApi`): what the stack panel polls to show the HTTP source's statistics
 * and which chunks of the object are cached locally, in memory and in the persistent OPFS cache.
 */
import type { StackId } from './api.ts';

export interface UrlSourceStats {
  /** Every HTTP request sent (HEAD, probe, ranges, retries). */
  readonly requests: number;
  readonly retries: number;
  readonly failures: number;
  readonly readaheadRequests: number;
  readonly bytesFetched: number;
  readonly bytesServed: number;
  /** Memory chunk cache hits over all chunk lookups. */
  readonly hitRatio: number;
  readonly inFlight: number;
  readonly peakInFlight: number;
  /** Whole-request latency, in ns (fio's percentiles of its log-linear histogram). */
  readonly latency: { readonly count: number; readonly p50Ns: number; readonly p90Ns: number; readonly p99Ns: number; readonly maxNs: number };
}

export interface UrlPersistentCacheInfo {
  /** 'off' when there is no persistent cache (`reason` says why). */
  readonly mode: 'off' | 'filling' | 'stopped' | 'discarded';
  readonly reason?: string;
  readonly name?: string;
  /** An existing cache of this object version was found at open. */
  readonly reused: boolean;
  /** Fills not yet made durable. */
  readonly dirty: boolean;
  readonly bytesPresent: number;
  /** Per chunk of the object (see UrlSourceInfo.chunkBuckets): fraction held in the OPFS cache. */
  readonly map?: Float64Array;
}

export interface UrlSourceInfo {
  readonly url: string;
  /** 'raw', 'fixed VHD', 'dynamic VHD' ... */
  readonly format: string;
  readonly sizeBytes: number;
  /** ETag or Last-Modified; undefined when the server sends neither. */
  readonly identity?: string;
  readonly chunkSize: number;
  readonly chunkCount: number;
  /** Buckets of the maps (one per chunk, up to a limit); bucket b covers chunks [b, b+1) * chunkCount / chunkBuckets. */
  readonly chunkBuckets: number;
  /** Per bucket: fraction of its chunks held in the memory chunk cache. */
  readonly memory: Float64Array;
  readonly stats: UrlSourceStats;
  readonly persistent: UrlPersistentCacheInfo;
  /** Parent images of a differencing image, by URL. */
  readonly parents: readonly string[];
}

export interface UrlCacheApi {
  /** The URL sources of a stack, the image's first; [] for a stack with none. */
  urlSources(id: StackId): Promise<UrlSourceInfo[]>;
}
