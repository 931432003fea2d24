/**
 * The in-memory index of a persistent layer (persistent-layer.ts): which sectors of each chunk are
 * present and which hold data, which data slot of the data file a chunk's bytes live in, and
 * which chunks are wholly in the zero state (kept as intervals, so unmapping 2^53 bytes is one
 * record). It does no I/O: the layer writes the bytes first and then records them here, and turns
 * this index into the metadata record at flush.
 *
 * A chunk's data slot is released (through `onSlotFreed`) when its last data sector goes; the
 * layer decides when a released slot may be reused (only once a flushed record no longer names it).
 */
import { ExtentSet } from './extent-set.ts';
import type { PresenceRun } from './layer.ts';
import { pushRun } from './occupancy.ts';
import type { ChunkRecord, LayerRecord } from './persistent-layer-format.ts';
import { countBits, fillBits, findBit, forEachRun, testBit, wordsFor } from './sector-bitmap.ts';

export interface MapChunk {
  readonly present: Uint32Array;
  readonly hasData: Uint32Array;
  presentCount: number;
  dataCount: number;
  /** Data slot, or -1 while the chunk holds no data sector. */
  slot: number;
}

export class PersistentChunkMap {
  readonly chunkSectors: number;
  readonly chunks = new Map<number, MapChunk>();
  readonly zeroChunks = new ExtentSet();
  dataSectors = 0;
  #sortedKeys: number[] | undefined;
  readonly #onSlotFreed: (slot: number) => void;

  constructor(chunkSectors: number, onSlotFreed: (slot: number) => void) {
    this.chunkSectors = chunkSectors;
    this.#onSlotFreed = onSlotFreed;
  }

  static fromRecord(record: LayerRecord, chunkSectors: number, onSlotFreed: (slot: number) => void): PersistentChunkMap {
    const map = new PersistentChunkMap(chunkSectors, onSlotFreed);
    for (const [s, e] of record.zeroExtents) map.zeroChunks.add(s, e);
    for (const c of record.chunks) {
      map.chunks.set(c.index, { present: c.present, hasData: c.hasData, presentCount: c.presentCount, dataCount: c.dataCount, slot: c.slot });
      map.dataSectors += c.dataCount;
    }
    return map;
  }

  toRecord(): LayerRecord {
    const chunks: ChunkRecord[] = this.keysIn(0, Number.MAX_SAFE_INTEGER).map((index) => {
      const c = this.chunks.get(index)!;
      return { index, slot: c.slot, present: c.present, hasData: c.hasData, presentCount: c.presentCount, dataCount: c.dataCount };
    });
    return { zeroExtents: this.zeroChunks.within(0, Number.MAX_SAFE_INTEGER), chunks };
  }

  /** The detailed record of chunk `c`, created if needed (all zero-state if it was a zero extent). */
  materialize(c: number): MapChunk {
    let chunk = this.chunks.get(c);
    if (chunk) return chunk;
    const words = wordsFor(this.chunkSectors);
    chunk = { present: new Uint32Array(words), hasData: new Uint32Array(words), presentCount: 0, dataCount: 0, slot: -1 };
    if (this.zeroChunks.has(c)) {
      fillBits(chunk.present, 0, this.chunkSectors, true);
      chunk.presentCount = this.chunkSectors;
      this.zeroChunks.remove(c, c + 1);
    }
    this.chunks.set(c, chunk);
    this.#sortedKeys = undefined;
    return chunk;
  }

  /** Makes [start, start + length) of `chunk` data; returns whether the index changed. */
  markData(chunk: MapChunk, start: number, length: number): boolean {
    const newlyPresent = length - countBits(chunk.present, start, length);
    const added = length - countBits(chunk.hasData, start, length);
    chunk.presentCount += newlyPresent;
    fillBits(chunk.present, start, length, true);
    chunk.dataCount += added;
    this.dataSectors += added;
    fillBits(chunk.hasData, start, length, true);
    return newlyPresent > 0 || added > 0;
  }

  /** Unmaps sectors [lba, lba + count): zero state, or absent when `nextIsZero`. */
  unmap(lba: number, count: number, nextIsZero: boolean): void {
    const cs = this.chunkSectors;
    const end = lba + count;
    let at = lba;
    while (at < end) {
      const c = Math.floor(at / cs);
      const offset = at - c * cs;
      if (offset === 0 && end - at >= cs) {
        const c1 = Math.floor(end / cs);
        this.#drop(c, c1);
        if (nextIsZero) this.zeroChunks.remove(c, c1);
        else this.zeroChunks.add(c, c1);
        at = c1 * cs;
        continue;
      }
      const len = Math.min(cs - offset, end - at);
      this.#unmapInChunk(c, offset, len, nextIsZero);
      at += len;
    }
  }

  #unmapInChunk(c: number, at: number, len: number, nextIsZero: boolean): void {
    const known = this.chunks.has(c) || this.zeroChunks.has(c);
    if (nextIsZero && !known) return;
    const chunk = this.materialize(c);
    const removedData = countBits(chunk.hasData, at, len);
    chunk.dataCount -= removedData;
    this.dataSectors -= removedData;
    fillBits(chunk.hasData, at, len, false);
    const wasPresent = countBits(chunk.present, at, len);
    chunk.presentCount += nextIsZero ? -wasPresent : len - wasPresent;
    fillBits(chunk.present, at, len, !nextIsZero);
    if (chunk.dataCount === 0 && chunk.slot >= 0) {
      this.#onSlotFreed(chunk.slot);
      chunk.slot = -1;
    }
    if (chunk.presentCount === 0) {
      this.#drop(c, c + 1);
    } else if (chunk.presentCount === this.chunkSectors && chunk.dataCount === 0) {
      this.#drop(c, c + 1);
      this.zeroChunks.add(c, c + 1);
    }
  }

  /** Forgets the detailed records of chunks [c0, c1), releasing their slots. */
  #drop(c0: number, c1: number): void {
    const keys = c1 - c0 === 1 ? (this.chunks.has(c0) ? [c0] : []) : this.keysIn(c0, c1);
    for (const c of keys) {
      const chunk = this.chunks.get(c)!;
      this.dataSectors -= chunk.dataCount;
      if (chunk.slot >= 0) this.#onSlotFreed(chunk.slot);
      this.chunks.delete(c);
    }
    if (keys.length > 0) this.#sortedKeys = undefined;
  }

  /** Detailed chunk indices in [c0, c1), ascending. */
  keysIn(c0: number, c1: number): number[] {
    this.#sortedKeys ??= [...this.chunks.keys()].sort((a, b) => a - b);
    const keys = this.#sortedKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < c0) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < keys.length && keys[i]! < c1; i++) out.push(keys[i]!);
    return out;
  }

  presence(lba: number, count: number): PresenceRun[] {
    const out: PresenceRun[] = [];
    if (count === 0) return out;
    const cs = this.chunkSectors;
    const end = lba + count;
    const c0 = Math.floor(lba / cs);
    const c1 = Math.ceil(end / cs);
    const keys = this.keysIn(c0, c1);
    const zeros = this.zeroChunks.within(c0, c1);
    let k = 0;
    let z = 0;
    while (k < keys.length || z < zeros.length) {
      const zero = zeros[z];
      const key = keys[k];
      if (zero && (key === undefined || zero[0] < key)) {
        const start = Math.max(lba, zero[0] * cs);
        pushRun(out, start, Math.min(end, zero[1] * cs) - start, 'zero');
        z++;
        continue;
      }
      const c = key!;
      const chunk = this.chunks.get(c)!;
      const base = c * cs;
      if (chunk.dataCount === cs) {
        // A chunk wholly of data (the common case after sequential writes): no bitmap walk.
        const start = Math.max(lba, base);
        pushRun(out, start, Math.min(end, base + cs) - start, 'data');
        k++;
        continue;
      }
      forEachRun(chunk.present, Math.max(lba, base) - base, Math.min(end, base + cs) - base, true, (start, length) => {
        const stop = start + length;
        for (let i = start; i < stop; ) {
          const isData = testBit(chunk.hasData, i);
          const j = findBit(chunk.hasData, i, stop, !isData);
          pushRun(out, base + i, j - i, isData ? 'data' : 'zero');
          i = j;
        }
      });
      k++;
    }
    return out;
  }

  clear(): void {
    this.chunks.clear();
    this.zeroChunks.clear();
    this.#sortedKeys = undefined;
    this.dataSectors = 0;
  }
}
