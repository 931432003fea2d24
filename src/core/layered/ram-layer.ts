/**
 * RamLayer: an ephemeral copy-on-write layer in memory (OpenVMM's disklayer_ram, reworked).
 *
 * Storage is chunked. A chunk that holds anything has two per-sector bitmaps (present, has-data)
 * and, only once a sector in it is written, a data buffer; chunks that are wholly in the zero
 * state are kept as intervals in an ExtentSet with no per-chunk record at all. So memory follows
 * the data written (and the number of distinct unmapped regions), never the layer size: a
 * 2^53-byte layer costs nothing until used, and unmapping all of it over a base image is one
 * interval.
 *
 * Unmap behaviour is `zeroes`: sectors go to the zero state, or to absent when the caller says
 * the layers below read as zero there. Errors: OUT_OF_RANGE and READ_ONLY as the Layer contract
 * says; construction problems are DiskConfigErrors.
 */
import { maxSectorsFor, type UnmapBehavior } from '../disk/disk.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { checkRange, isPowerOfTwo } from '../disk/range.ts';
import { ExtentSet } from './extent-set.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from './layer.ts';
import { checkMapArgs, occupancyFromRuns, pushRun } from './occupancy.ts';
import { countBits, fillBits, findBit, forEachRun, testBit, wordsFor } from './sector-bitmap.ts';

export interface RamLayerOptions {
  readonly sectors: number;
  readonly sectorSize?: number;
  readonly physicalSectorSize?: number;
  readonly readOnly?: boolean;
  /** Allocation unit in bytes: a power of two, at least one sector. Default 64 KiB. */
  readonly chunkBytes?: number;
}

interface Chunk {
  readonly present: Uint32Array;
  readonly hasData: Uint32Array;
  presentCount: number;
  dataCount: number;
  /** Allocated on the first data write into the chunk, dropped when its last data sector goes. */
  data: Uint8Array | undefined;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024;

export class RamLayer implements Layer {
  readonly layerType = 'ram';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly fuaRespected = true;
  readonly unmapBehavior: UnmapBehavior = 'zeroes';
  readonly optimalUnmapSectors: number;
  readonly diskId = undefined;
  readonly #chunkSectors: number;
  readonly #chunks = new Map<number, Chunk>();
  /** Chunk indices wholly in the zero state, with no entry in #chunks. */
  readonly #zeroChunks = new ExtentSet();
  #sortedKeys: number[] | undefined;
  #dataSectors = 0;
  #sectors: number;

  constructor(options: RamLayerOptions) {
    const bad = (field: string, value: unknown, why: string): never => {
      throw new DiskConfigError('INVALID_PARAMETER', field, `RAM layer: ${field} ${String(value)} ${why}`, { value });
    };
    this.sectorSize = options.sectorSize ?? 512;
    if (!isPowerOfTwo(this.sectorSize) || this.sectorSize < 512) bad('sectorSize', this.sectorSize, 'is not a power of two >= 512');
    this.physicalSectorSize = options.physicalSectorSize ?? this.sectorSize;
    if (!isPowerOfTwo(this.physicalSectorSize) || this.physicalSectorSize < this.sectorSize) {
      bad('physicalSectorSize', this.physicalSectorSize, 'is not a power of two >= the sector size');
    }
    const chunkBytes = Math.max(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, this.sectorSize);
    if (!isPowerOfTwo(chunkBytes)) bad('chunkBytes', chunkBytes, 'is not a power of two');
    if (!Number.isSafeInteger(options.sectors) || options.sectors < 0 || options.sectors > maxSectorsFor(this.sectorSize)) {
      bad('sectors', options.sectors, 'is not a sector count the layer can hold below 2^53 bytes');
    }
    this.#chunkSectors = chunkBytes / this.sectorSize;
    this.#sectors = options.sectors;
    this.readOnly = options.readOnly ?? false;
    this.optimalUnmapSectors = this.#chunkSectors;
  }

  sectorCount(): number {
    return this.#sectors;
  }

  bytesPresent(): number {
    return this.#dataSectors * this.sectorSize;
  }

  /** Bytes of memory holding sector data (bitmaps and interval records come on top, and are small). */
  bytesAllocated(): number {
    let buffers = 0;
    for (const chunk of this.#chunks.values()) if (chunk.data) buffers++;
    return buffers * this.#chunkSectors * this.sectorSize;
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    const ss = this.sectorSize;
    checkRange('read', lba, buf.length / ss, this.#sectors);
    this.#pieces(lba, buf.length / ss, (c, at, len, from) => {
      const chunk = this.#chunks.get(c);
      if (!chunk) {
        if (this.#zeroChunks.has(c)) {
          buf.fill(0, from * ss, (from + len) * ss);
          marker.mark(lba + from, len);
        }
        return;
      }
      forEachRun(chunk.present, at, at + len, true, (start, length) => {
        const end = start + length;
        for (let i = start; i < end; ) {
          const isData = testBit(chunk.hasData, i);
          const j = findBit(chunk.hasData, i, end, !isData);
          const out = (from + i - at) * ss;
          if (isData) buf.set(chunk.data!.subarray(i * ss, j * ss), out);
          else buf.fill(0, out, out + (j - i) * ss);
          i = j;
        }
        marker.mark(lba + from + start - at, length);
      });
    });
  }

  async write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    const ss = this.sectorSize;
    if (this.readOnly && !options.noOverwrite) throw new DiskError('READ_ONLY', 'write: RAM layer is read-only', { lba });
    checkRange('write', lba, data.length / ss, this.#sectors);
    this.#pieces(lba, data.length / ss, (c, at, len, from) => {
      const src = (start: number) => data.subarray((from + start - at) * ss);
      if (!options.noOverwrite) {
        this.#store(this.#materialize(c), at, len, src(at));
        return;
      }
      const chunk = this.#chunks.get(c);
      if (chunk) forEachRun(chunk.present, at, at + len, false, (start, length) => this.#store(chunk, start, length, src(start)));
      else if (!this.#zeroChunks.has(c)) this.#store(this.#materialize(c), at, len, src(at));
    });
  }

  async unmap(lba: number, count: number, nextIsZero: boolean): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', 'unmap: RAM layer is read-only', { lba });
    checkRange('unmap', lba, count, this.#sectors);
    this.#unmap(lba, count, nextIsZero);
  }

  async flush(): Promise<void> {}

  async resize(sectors: number): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', 'resize: RAM layer is read-only');
    if (!Number.isSafeInteger(sectors) || sectors < 0 || sectors > maxSectorsFor(this.sectorSize)) {
      throw new DiskError('INVALID_INPUT', `resize: ${sectors} is not a sector count the layer can hold`);
    }
    // Whatever lay beyond the new end is forgotten, so growing again exposes absent sectors.
    if (sectors < this.#sectors) this.#unmap(sectors, this.#sectors - sectors, true);
    this.#sectors = sectors;
  }

  async close(): Promise<void> {
    this.#chunks.clear();
    this.#zeroChunks.clear();
    this.#sortedKeys = undefined;
    this.#dataSectors = 0;
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    checkRange('presence', lba, count, this.#sectors);
    return this.#presence(lba, count);
  }

  async occupancyMap(buckets: number, lba = 0, count = this.#sectors - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.#sectors);
    return occupancyFromRuns(this.#presence(lba, count), buckets, lba, count);
  }

  #presence(lba: number, count: number): PresenceRun[] {
    const out: PresenceRun[] = [];
    if (count === 0) return out;
    const cs = this.#chunkSectors;
    const end = lba + count;
    const c0 = Math.floor(lba / cs);
    const c1 = Math.ceil(end / cs);
    const keys = this.#keysIn(c0, c1);
    const zeros = this.#zeroChunks.within(c0, c1);
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
      const chunk = this.#chunks.get(c)!;
      const base = c * cs;
      const from = Math.max(lba, base) - base;
      const to = Math.min(end, base + cs) - base;
      forEachRun(chunk.present, from, to, true, (start, length) => {
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

  /** Unmap without the caller-facing checks: also how resize forgets the tail. */
  #unmap(lba: number, count: number, nextIsZero: boolean): void {
    const cs = this.#chunkSectors;
    const end = lba + count;
    let at = lba;
    while (at < end) {
      const c = Math.floor(at / cs);
      const offset = at - c * cs;
      if (offset === 0 && end - at >= cs) {
        // A span of whole chunks: handled as intervals, never chunk by chunk.
        const c1 = Math.floor(end / cs);
        this.#dropChunks(c, c1);
        if (nextIsZero) this.#zeroChunks.remove(c, c1);
        else this.#zeroChunks.add(c, c1);
        at = c1 * cs;
        continue;
      }
      const len = Math.min(cs - offset, end - at);
      this.#unmapInChunk(c, offset, len, nextIsZero);
      at += len;
    }
  }

  #unmapInChunk(c: number, at: number, len: number, nextIsZero: boolean): void {
    const known = this.#chunks.has(c) || this.#zeroChunks.has(c);
    if (nextIsZero && !known) return;
    const chunk = this.#materialize(c);
    const removedData = countBits(chunk.hasData, at, len);
    chunk.dataCount -= removedData;
    this.#dataSectors -= removedData;
    fillBits(chunk.hasData, at, len, false);
    const wasPresent = countBits(chunk.present, at, len);
    chunk.presentCount += nextIsZero ? -wasPresent : len - wasPresent;
    fillBits(chunk.present, at, len, !nextIsZero);
    if (chunk.dataCount === 0) chunk.data = undefined;
    if (chunk.presentCount === 0) {
      this.#dropChunks(c, c + 1);
    } else if (chunk.presentCount === this.#chunkSectors && chunk.dataCount === 0) {
      this.#dropChunks(c, c + 1);
      this.#zeroChunks.add(c, c + 1);
    }
  }

  /** Writes `length` sectors from `src` into `chunk` at sector `start`, making them data. */
  #store(chunk: Chunk, start: number, length: number, src: Uint8Array): void {
    const ss = this.sectorSize;
    chunk.data ??= new Uint8Array(this.#chunkSectors * ss);
    chunk.data.set(src.subarray(0, length * ss), start * ss);
    chunk.presentCount += length - countBits(chunk.present, start, length);
    fillBits(chunk.present, start, length, true);
    const added = length - countBits(chunk.hasData, start, length);
    chunk.dataCount += added;
    this.#dataSectors += added;
    fillBits(chunk.hasData, start, length, true);
  }

  /** The detailed record of chunk `c`, created if needed (all-zero if the chunk was a zero extent). */
  #materialize(c: number): Chunk {
    let chunk = this.#chunks.get(c);
    if (chunk) return chunk;
    const words = wordsFor(this.#chunkSectors);
    chunk = { present: new Uint32Array(words), hasData: new Uint32Array(words), presentCount: 0, dataCount: 0, data: undefined };
    if (this.#zeroChunks.has(c)) {
      fillBits(chunk.present, 0, this.#chunkSectors, true);
      chunk.presentCount = this.#chunkSectors;
      this.#zeroChunks.remove(c, c + 1);
    }
    this.#chunks.set(c, chunk);
    this.#sortedKeys = undefined;
    return chunk;
  }

  /** Forgets the detailed records of chunks [c0, c1). */
  #dropChunks(c0: number, c1: number): void {
    const keys = c1 - c0 === 1 ? (this.#chunks.has(c0) ? [c0] : []) : this.#keysIn(c0, c1);
    for (const c of keys) {
      this.#dataSectors -= this.#chunks.get(c)!.dataCount;
      this.#chunks.delete(c);
    }
    if (keys.length > 0) this.#sortedKeys = undefined;
  }

  /** Detailed chunk indices in [c0, c1), ascending. */
  #keysIn(c0: number, c1: number): number[] {
    this.#sortedKeys ??= [...this.#chunks.keys()].sort((a, b) => a - b);
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

  /** Calls `fn(chunk, offsetInChunk, length, offsetInRequest)` for each chunk piece of [lba, lba + count), in sectors. */
  #pieces(lba: number, count: number, fn: (c: number, at: number, len: number, from: number) => void): void {
    const cs = this.#chunkSectors;
    for (let from = 0; from < count; ) {
      const c = Math.floor((lba + from) / cs);
      const at = lba + from - c * cs;
      const len = Math.min(cs - at, count - from);
      fn(c, at, len, from);
      from += len;
    }
  }
}
