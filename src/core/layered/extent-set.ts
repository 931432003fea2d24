/**
 * A set of integers stored as sorted, disjoint, non-touching half-open intervals [start, end).
 * RamLayer keeps the chunks that are wholly in the zero state here, so unmapping a terabyte
 * over a base image costs one interval instead of millions of per-chunk records.
 *
 * All operations are O(log n + k) for n intervals and k intervals touched.
 */
export class ExtentSet {
  // Parallel arrays: starts[i] < ends[i] < starts[i + 1].
  #starts: number[] = [];
  #ends: number[] = [];

  get size(): number {
    return this.#starts.length;
  }

  /** Number of integers in the set. */
  total(): number {
    let sum = 0;
    for (let i = 0; i < this.#starts.length; i++) sum += this.#ends[i]! - this.#starts[i]!;
    return sum;
  }

  /** Index of the first interval whose end is > x (it may or may not contain x). */
  #firstEndingAfter(x: number): number {
    let lo = 0;
    let hi = this.#ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ends[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  has(x: number): boolean {
    const i = this.#firstEndingAfter(x);
    return i < this.#starts.length && this.#starts[i]! <= x;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    // Merge every interval that overlaps or touches [start, end).
    const i = this.#firstEndingAfter(start - 1); // first with end >= start
    let j = i;
    let s = start;
    let e = end;
    while (j < this.#starts.length && this.#starts[j]! <= end) {
      s = Math.min(s, this.#starts[j]!);
      e = Math.max(e, this.#ends[j]!);
      j++;
    }
    this.#starts.splice(i, j - i, s);
    this.#ends.splice(i, j - i, e);
  }

  remove(start: number, end: number): void {
    if (end <= start) return;
    const i = this.#firstEndingAfter(start);
    let j = i;
    const keepStarts: number[] = [];
    const keepEnds: number[] = [];
    while (j < this.#starts.length && this.#starts[j]! < end) {
      const s = this.#starts[j]!;
      const e = this.#ends[j]!;
      if (s < start) {
        keepStarts.push(s);
        keepEnds.push(start);
      }
      if (e > end) {
        keepStarts.push(end);
        keepEnds.push(e);
      }
      j++;
    }
    this.#starts.splice(i, j - i, ...keepStarts);
    this.#ends.splice(i, j - i, ...keepEnds);
  }

  /** The parts of the set within [start, end), as [start, end) pairs in order. */
  within(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.#firstEndingAfter(start); i < this.#starts.length && this.#starts[i]! < end; i++) {
      out.push([Math.max(start, this.#starts[i]!), Math.min(end, this.#ends[i]!)]);
    }
    return out;
  }

  clear(): void {
    this.#starts = [];
    this.#ends = [];
  }
}
