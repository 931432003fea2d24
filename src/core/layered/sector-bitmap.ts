/**
 * Bit arrays over sectors: the word-level helpers RamLayer's per-chunk presence maps use, and
 * `SectorBitmap`, the "which sectors of this request are served yet" set LayeredDisk hands to
 * each layer's read as its `SectorMarker`.
 *
 * Bits are little-endian within 32-bit words (bit i is word i >>> 5, bit i & 31). The helpers
 * trust their arguments (callers are internal and already range-checked); `SectorBitmap.mark`
 * checks, because it is called by layers, and a layer marking outside its request is a bug that
 * must surface as an error rather than as silently wrong data.
 */
import { DiskError } from '../disk/errors.ts';
import type { SectorMarker } from './layer.ts';

export function wordsFor(bits: number): number {
  return Math.max(1, Math.ceil(bits / 32));
}

/** Sets (value true) or clears bits [start, start + count). */
export function fillBits(bits: Uint32Array, start: number, count: number, value: boolean): void {
  let i = start;
  const end = start + count;
  while (i < end) {
    const word = i >>> 5;
    const bit = i & 31;
    const n = Math.min(32 - bit, end - i);
    const mask = n === 32 ? 0xffffffff : ((1 << n) - 1) << bit;
    bits[word] = value ? (bits[word]! | mask) >>> 0 : (bits[word]! & ~mask) >>> 0;
    i += n;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of set bits in [start, start + count). */
export function countBits(bits: Uint32Array, start: number, count: number): number {
  let total = 0;
  let i = start;
  const end = start + count;
  while (i < end) {
    const word = i >>> 5;
    const bit = i & 31;
    const n = Math.min(32 - bit, end - i);
    const mask = n === 32 ? 0xffffffff : ((1 << n) - 1) << bit;
    total += popcount((bits[word]! & mask) >>> 0);
    i += n;
  }
  return total;
}

export function testBit(bits: Uint32Array, i: number): boolean {
  return ((bits[i >>> 5]! >>> (i & 31)) & 1) === 1;
}

/** First index in [from, to) whose bit equals `value`, or `to` if there is none. */
export function findBit(bits: Uint32Array, from: number, to: number, value: boolean): number {
  let i = from;
  while (i < to) {
    const word = i >>> 5;
    const bit = i & 31;
    let w = value ? bits[word]! : ~bits[word]! >>> 0;
    w = (w >>> bit) << bit; // ignore bits below i
    if (w !== 0) {
      const found = (word << 5) + (31 - Math.clz32(w & -w));
      return found < to ? found : to;
    }
    i = (word + 1) << 5;
  }
  return to;
}

/** Calls `fn(start, length)` for each maximal run of bits equal to `value` within [from, to). */
export function forEachRun(
  bits: Uint32Array,
  from: number,
  to: number,
  value: boolean,
  fn: (start: number, length: number) => void,
): void {
  let i = findBit(bits, from, to, value);
  while (i < to) {
    const end = findBit(bits, i, to, !value);
    fn(i, end - i);
    i = findBit(bits, end, to, value);
  }
}

/**
 * A set over the sectors [lba, lba + count) of one request, in absolute LBAs. Used as the marker
 * a layer's read fills in, and to find the runs no layer has served yet.
 */
export class SectorBitmap implements SectorMarker {
  readonly lba: number;
  readonly count: number;
  readonly #bits: Uint32Array;
  #set = 0;

  constructor(lba: number, count: number, bits?: Uint32Array, set?: number) {
    this.lba = lba;
    this.count = count;
    this.#bits = bits ?? new Uint32Array(wordsFor(count));
    this.#set = set ?? 0;
  }

  mark(lba: number, count: number): void {
    const start = lba - this.lba;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > this.count) {
      throw new DiskError(
        'INVALID_INPUT',
        `marked ${count} sector(s) at LBA ${lba}, outside the request [${this.lba}, ${this.lba + this.count})`,
        { lba },
      );
    }
    this.#set += count - countBits(this.#bits, start, count);
    fillBits(this.#bits, start, count, true);
  }

  has(lba: number): boolean {
    const i = lba - this.lba;
    return i >= 0 && i < this.count && testBit(this.#bits, i);
  }

  get setCount(): number {
    return this.#set;
  }

  get full(): boolean {
    return this.#set === this.count;
  }

  /** Maximal runs of set (or unset) sectors, as absolute [lba, count] pairs, collected up front so marking during iteration is safe. */
  runs(set: boolean): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    forEachRun(this.#bits, 0, this.count, set, (start, length) => out.push([this.lba + start, length]));
    return out;
  }

  clone(): SectorBitmap {
    return new SectorBitmap(this.lba, this.count, this.#bits.slice(), this.#set);
  }
}
