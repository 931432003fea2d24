/**
 * Latency over an interval from two cumulative histograms: the live stats buffer only ever grows,
 * so the time series takes the difference between two reads to get "p50/p99 over the last half
 * second" rather than since the start.
 *
 * The difference keeps fio's buckets exactly; min and max are not recoverable from two cumulative
 * extremes, so they become the bounds of the first and last non-empty bucket (the estimate is then
 * within one bucket, as every other percentile is).
 */
import { LatencyHistogram, PLAT_NR, bucketBounds } from '../../core/stats/latency-histogram.ts';

const HEADER = LatencyHistogram.STORAGE_LENGTH - PLAT_NR;

/** Samples added between `before` and `after` (storage arrays of the same histogram), over every pair given. */
export function intervalHistogram(pairs: readonly { before: Float64Array | undefined; after: Float64Array }[]): LatencyHistogram {
  const out = new Float64Array(LatencyHistogram.STORAGE_LENGTH);
  let count = 0;
  let sum = 0;
  let first = -1;
  let last = -1;
  for (const { before, after } of pairs) {
    count += after[0]! - (before?.[0] ?? 0);
    sum += after[1]! - (before?.[1] ?? 0);
    for (let b = 0; b < PLAT_NR; b++) {
      const d = after[HEADER + b]! - (before?.[HEADER + b] ?? 0);
      if (d > 0) {
        out[HEADER + b]! += d;
        if (first < 0 || b < first) first = b;
        if (b > last) last = b;
      }
    }
  }
  if (count > 0 && first >= 0) {
    out[0] = count;
    out[1] = sum;
    out[2] = bucketBounds(first).lowNs;
    out[3] = bucketBounds(last).highNs - 1;
  }
  return new LatencyHistogram(out);
}
