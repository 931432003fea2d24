/**
 * Occupancy helpers shared by every layer: coalescing presence runs and downsampling them into
 * a per-bucket map for the UI's canvas.
 *
 * Bucket b of `buckets` over [lba, lba + count) covers [lba + start(b), lba + start(b + 1)) with
 * start(b) = floor(b * count / buckets), so bucket sizes differ by at most one. It is computed as
 * q*b + floor(r*b / buckets) (q = floor(count / buckets), r = count mod buckets), which is the
 * same number but stays exact for 2^53-byte layers, where b * count would not. When there are more buckets than sectors, some buckets are
 * empty and report 0.
 */
import { DiskError } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';
import type { PresenceRun } from './layer.ts';

/** Largest bucket count a map may ask for: a canvas a few thousand pixels wide, squared, is plenty. */
export const MAX_BUCKETS = 1 << 24;

/** First sector offset (relative to the range start) of bucket `b`. */
export function bucketStart(b: number, buckets: number, count: number): number {
  const q = Math.floor(count / buckets);
  const r = count % buckets;
  return q * b + Math.floor((r * b) / buckets);
}

/** Index of the bucket holding relative sector `offset` (0 <= offset < count). */
function bucketOf(offset: number, buckets: number, count: number): number {
  // Estimate, then correct: the estimate is off by at most one either way.
  let b = Math.min(buckets - 1, Math.floor((offset / count) * buckets));
  while (b > 0 && bucketStart(b, buckets, count) > offset) b--;
  while (b < buckets - 1 && bucketStart(b + 1, buckets, count) <= offset) b++;
  return b;
}

/** Validates occupancy-map arguments the same way for every layer. */
export function checkMapArgs(buckets: number, lba: number, count: number, sectorCount: number): void {
  if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
    throw new DiskError('INVALID_INPUT', `occupancy map: bucket count ${buckets} is not an integer in [1, ${MAX_BUCKETS}]`);
  }
  checkRange('occupancy map', lba, count, sectorCount);
}

/** Fraction of each bucket covered by `runs` (which must lie within [lba, lba + count) and not overlap). */
export function occupancyFromRuns(runs: readonly PresenceRun[], buckets: number, lba: number, count: number): Float64Array {
  const covered = new Float64Array(buckets);
  if (count === 0) return covered;
  for (const run of runs) {
    let at = run.lba - lba;
    const end = at + run.count;
    let b = bucketOf(at, buckets, count);
    while (at < end) {
      const bucketEnd = bucketStart(b + 1, buckets, count);
      const piece = Math.min(end, bucketEnd) - at;
      covered[b] = covered[b]! + piece;
      at += piece;
      b++;
    }
  }
  for (let b = 0; b < buckets; b++) {
    const size = bucketStart(b + 1, buckets, count) - bucketStart(b, buckets, count);
    covered[b] = size === 0 ? 0 : covered[b]! / size;
  }
  return covered;
}

/** Appends a run to a list in LBA order, merging it with the last run when they touch with the same state. */
export function pushRun(out: PresenceRun[], lba: number, count: number, state: 'zero' | 'data'): void {
  if (count <= 0) return;
  const last = out[out.length - 1];
  if (last && last.state === state && last.lba + last.count === lba) {
    out[out.length - 1] = { lba: last.lba, count: last.count + count, state };
  } else {
    out.push({ lba, count, state });
  }
}
