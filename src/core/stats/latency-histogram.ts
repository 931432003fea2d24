/**
 * LatencyHistogram: fio's log-linear latency histogram over nanoseconds, so the lab's percentiles
 * read like fio's clat percentiles and can be compared bucket for bucket.
 *
 * The bucket scheme (fio's FIO_IO_U_PLAT_BITS = 6, FIO_IO_U_PLAT_VAL = 64, 29 groups, 1856 buckets):
 * - Values below 128 ns get one bucket each (groups 0 and 1: indexes 0..127), so they are exact.
 * - Above that, a value whose most significant bit is bit m (2^m <= v < 2^(m+1), m >= 7) falls in
 *   group m - 5, which splits [2^m, 2^(m+1)) into 64 equal buckets of width 2^(m-6). The index is
 *   (m - 5) * 64 + the six bits after the leading one. Each power of two gets the same number of
 *   buckets: resolution is relative, not absolute.
 * - A bucket stands for its midpoint, so an estimate is within half a bucket width, 2^(m-7), of
 *   any value in the bucket: a relative error of at most 1/128 (0.78%). This implementation also
 *   clamps estimates into [min, max], which are tracked exactly (never making them worse), and
 *   answers the ranks of the smallest and largest sample with min and max themselves.
 * - The last group ends at 2^34 ns (about 17.2 s); longer latencies all land in the last bucket,
 *   where only the clamp to the exact max keeps the estimate honest.
 *
 * Percentiles follow fio: the p-th percentile is the bucket holding the sample of rank
 * ceil(p/100 * count) (at least 1) in sorted order; see `percentileRank`.
 *
 * Storage: the whole state is one Float64Array (4 header slots: count, sum, min, max; then the
 * bucket counts), so it can later live in a SharedArrayBuffer written by the disk worker and read
 * by the UI. A zero-filled array is a valid empty histogram. Float64 keeps counts exact to 2^53.
 * An empty histogram reports 0 for min, max, mean and every percentile.
 *
 * Errors: bad arguments (a percentile outside [0, 100], storage of the wrong length, a malformed
 * snapshot) throw RangeError; they are programming errors, not disk errors.
 */

export const PLAT_BITS = 6;
export const PLAT_VAL = 1 << PLAT_BITS;
export const PLAT_GROUP_NR = 29;
export const PLAT_NR = PLAT_GROUP_NR * PLAT_VAL;

/** fio's default clat percentile list. */
export const FIO_DEFAULT_PERCENTILES: readonly number[] = [
  1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
];

const COUNT = 0;
const SUM = 1;
const MIN = 2;
const MAX = 3;
const HEADER = 4;

/** A plain, structured-cloneable copy of a histogram: only non-empty buckets, as parallel arrays. */
export interface LatencyHistogramSnapshot {
  readonly count: number;
  readonly sumNs: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly bucketIndex: readonly number[];
  readonly bucketCount: readonly number[];
}

export interface PercentileValue {
  readonly percentile: number;
  readonly ns: number;
}

/** Bucket index of a latency in ns (fio's plat_val_to_idx). Negative or fractional values are rounded into range. */
export function bucketIndexOf(ns: number): number {
  const v = ns > 0 ? Math.round(ns) : 0;
  if (v < 2 * PLAT_VAL) return v;
  // Math.log2 can be off by one near powers of two, so correct it with exact comparisons.
  let msb = Math.floor(Math.log2(v));
  if (2 ** msb > v) msb--;
  else if (2 ** (msb + 1) <= v) msb++;
  const errorBits = msb - PLAT_BITS;
  const index = (errorBits + 1) * PLAT_VAL + (Math.floor(v / 2 ** errorBits) % PLAT_VAL);
  return Math.min(index, PLAT_NR - 1);
}

/** Lowest value (inclusive) and highest value (exclusive) a bucket covers, in ns. */
export function bucketBounds(index: number): { readonly lowNs: number; readonly highNs: number } {
  if (index < 2 * PLAT_VAL) return { lowNs: index, highNs: index + 1 };
  const errorBits = Math.floor(index / PLAT_VAL) - 1;
  const lowNs = 2 ** (errorBits + PLAT_BITS) + (index % PLAT_VAL) * 2 ** errorBits;
  return { lowNs, highNs: lowNs + 2 ** errorBits };
}

/** The value a bucket stands for (fio's plat_idx_to_val): its midpoint, or the value itself below 128. */
export function bucketValue(index: number): number {
  if (index < 2 * PLAT_VAL) return index;
  const { lowNs, highNs } = bucketBounds(index);
  return (lowNs + highNs) / 2;
}

/**
 * Rank (1-based, in sorted order) of the sample that is the p-th percentile of n: ceil(p/100 * n),
 * at least 1. Products that are integers up to floating-point noise (99.99% of 10000) count as
 * integers, so 99.99% of 10000 samples is rank 9999, not 10000.
 */
export function percentileRank(p: number, n: number): number {
  const exact = (p * n) / 100;
  const nearest = Math.round(exact);
  const rank = Math.abs(exact - nearest) <= 1e-9 * Math.max(1, exact) ? nearest : Math.ceil(exact);
  return Math.min(n, Math.max(1, rank));
}

export class LatencyHistogram {
  /** Float64 slots the storage needs: pass a view of this length to share state. */
  static readonly STORAGE_LENGTH = HEADER + PLAT_NR;
  readonly #s: Float64Array;
  readonly #buckets: Float64Array;

  /** Over fresh storage, or over `storage` (e.g. a view of a SharedArrayBuffer), keeping its contents. */
  constructor(storage?: Float64Array) {
    if (storage !== undefined && storage.length !== LatencyHistogram.STORAGE_LENGTH) {
      throw new RangeError(`histogram storage must have ${LatencyHistogram.STORAGE_LENGTH} slots, not ${storage.length}`);
    }
    this.#s = storage ?? new Float64Array(LatencyHistogram.STORAGE_LENGTH);
    this.#buckets = this.#s.subarray(HEADER);
  }

  static fromSnapshot(snapshot: LatencyHistogramSnapshot): LatencyHistogram {
    const h = new LatencyHistogram();
    h.merge(snapshot);
    return h;
  }

  /** The backing storage: header then bucket counts. */
  get storage(): Float64Array {
    return this.#s;
  }

  add(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    const s = this.#s;
    if (s[COUNT] === 0) {
      s[MIN] = v;
      s[MAX] = v;
    } else {
      if (v < s[MIN]!) s[MIN] = v;
      if (v > s[MAX]!) s[MAX] = v;
    }
    s[COUNT]! += 1;
    s[SUM]! += v;
    this.#buckets[bucketIndexOf(v)]! += 1;
  }

  get count(): number {
    return this.#s[COUNT]!;
  }
  get sum(): number {
    return this.#s[SUM]!;
  }
  get min(): number {
    return this.count === 0 ? 0 : this.#s[MIN]!;
  }
  get max(): number {
    return this.count === 0 ? 0 : this.#s[MAX]!;
  }
  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Samples in bucket `index`. */
  bucketCount(index: number): number {
    return this.#buckets[index] ?? 0;
  }

  /** The p-th percentile (0..100) in ns; see the module doc for the rank rule and error bound. */
  percentile(p: number): number {
    return this.percentiles([p])[0]!.ns;
  }

  /** Several percentiles in one pass over the buckets; default fio's list. Results follow the input order. */
  percentiles(list: readonly number[] = FIO_DEFAULT_PERCENTILES): PercentileValue[] {
    for (const p of list) {
      if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not within [0, 100]`);
    }
    const n = this.count;
    if (n === 0) return list.map((percentile) => ({ percentile, ns: 0 }));
    const order = list.map((p, i) => ({ i, rank: percentileRank(p, n) })).sort((a, b) => a.rank - b.rank);
    const out: PercentileValue[] = new Array<PercentileValue>(list.length);
    let seen = 0;
    let j = 0;
    for (let b = 0; b < PLAT_NR && j < order.length; b++) {
      seen += this.#buckets[b]!;
      while (j < order.length && order[j]!.rank <= seen) {
        const { i, rank } = order[j]!;
        out[i] = { percentile: list[i]!, ns: this.#estimate(rank, n, b) };
        j++;
      }
    }
    // Unreachable with consistent storage; a torn shared read could leave ranks past the last count.
    for (; j < order.length; j++) out[order[j]!.i] = { percentile: list[order[j]!.i]!, ns: this.max };
    return out;
  }

  #estimate(rank: number, n: number, bucket: number): number {
    // The smallest and largest samples are known exactly, so their ranks need no estimate.
    if (rank === 1) return this.min;
    if (rank === n) return this.max;
    return Math.min(this.max, Math.max(this.min, bucketValue(bucket)));
  }

  /** Adds another histogram's samples (a live one or a snapshot) into this one. */
  merge(other: LatencyHistogram | LatencyHistogramSnapshot): void {
    const snap = other instanceof LatencyHistogram ? other.snapshot() : other;
    validateSnapshot(snap);
    if (snap.count === 0) return;
    const s = this.#s;
    if (s[COUNT] === 0) {
      s[MIN] = snap.minNs;
      s[MAX] = snap.maxNs;
    } else {
      s[MIN] = Math.min(s[MIN]!, snap.minNs);
      s[MAX] = Math.max(s[MAX]!, snap.maxNs);
    }
    s[COUNT]! += snap.count;
    s[SUM]! += snap.sumNs;
    snap.bucketIndex.forEach((index, k) => {
      this.#buckets[index]! += snap.bucketCount[k]!;
    });
  }

  reset(): void {
    this.#s.fill(0);
  }

  snapshot(): LatencyHistogramSnapshot {
    const bucketIndex: number[] = [];
    const bucketCount: number[] = [];
    for (let b = 0; b < PLAT_NR; b++) {
      const c = this.#buckets[b]!;
      if (c !== 0) {
        bucketIndex.push(b);
        bucketCount.push(c);
      }
    }
    return { count: this.count, sumNs: this.sum, minNs: this.min, maxNs: this.max, bucketIndex, bucketCount };
  }
}

function validateSnapshot(snap: LatencyHistogramSnapshot): void {
  if (snap.bucketIndex.length !== snap.bucketCount.length) throw new RangeError('snapshot bucket arrays differ in length');
  let total = 0;
  for (const [k, index] of snap.bucketIndex.entries()) {
    const c = snap.bucketCount[k]!;
    if (!Number.isInteger(index) || index < 0 || index >= PLAT_NR) throw new RangeError(`snapshot bucket index ${index} is out of range`);
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`snapshot bucket count ${c} is not a count`);
    total += c;
  }
  if (total !== snap.count) throw new RangeError(`snapshot buckets hold ${total} samples but count says ${snap.count}`);
}
