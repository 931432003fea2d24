/**
 * Statistics of one HTTP range source, for the stack panel and `disklab info`: what was asked,
 * what went over the wire, and how well the chunk cache did.
 *
 * Counting rules
 * - `requests` counts every HTTP request sent (HEAD, probe GET, range GETs, retries); `retries`
 *   the subset that were second attempts; `failures` the requests that ended in an error.
 * - `bytesFetched` counts body bytes received; `bytesServed` bytes returned by `read`. Their ratio
 *   shows the cost of chunking and readahead (fetched > served) or the benefit of the cache.
 * - `chunkHits` are chunk lookups answered from the cache, `chunkWaits` lookups that joined a
 *   request already in flight (de-duplication), `chunkMisses` lookups that started a request.
 *   `hitRatio` = hits / all lookups (0 when there were none).
 * - `latency` is a fio-style histogram of whole-request time (sent to last body byte), in ns.
 */
import { LatencyHistogram, type LatencyHistogramSnapshot } from '../stats/latency-histogram.ts';

export interface HttpSourceStatsSnapshot {
  readonly requests: number;
  readonly retries: number;
  readonly failures: number;
  readonly readaheadRequests: number;
  readonly reads: number;
  readonly bytesFetched: number;
  readonly bytesServed: number;
  readonly chunkHits: number;
  readonly chunkWaits: number;
  readonly chunkMisses: number;
  readonly hitRatio: number;
  readonly inFlight: number;
  readonly peakInFlight: number;
  readonly cachedChunks: number;
  readonly cachedBytes: number;
  readonly latency: LatencyHistogramSnapshot;
}

export class HttpSourceStats {
  requests = 0;
  retries = 0;
  failures = 0;
  readaheadRequests = 0;
  reads = 0;
  bytesFetched = 0;
  bytesServed = 0;
  chunkHits = 0;
  chunkWaits = 0;
  chunkMisses = 0;
  inFlight = 0;
  peakInFlight = 0;
  readonly latency = new LatencyHistogram();

  requestStarted(): void {
    this.requests++;
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
  }

  requestEnded(latencyNs: number, ok: boolean): void {
    this.inFlight--;
    this.latency.add(latencyNs);
    if (!ok) this.failures++;
  }

  snapshot(cache: { readonly count: number; readonly bytes: number }): HttpSourceStatsSnapshot {
    const lookups = this.chunkHits + this.chunkWaits + this.chunkMisses;
    return {
      requests: this.requests,
      retries: this.retries,
      failures: this.failures,
      readaheadRequests: this.readaheadRequests,
      reads: this.reads,
      bytesFetched: this.bytesFetched,
      bytesServed: this.bytesServed,
      chunkHits: this.chunkHits,
      chunkWaits: this.chunkWaits,
      chunkMisses: this.chunkMisses,
      hitRatio: lookups === 0 ? 0 : this.chunkHits / lookups,
      inFlight: this.inFlight,
      peakInFlight: this.peakInFlight,
      cachedChunks: cache.count,
      cachedBytes: cache.bytes,
      latency: this.latency.snapshot(),
    };
  }
}
