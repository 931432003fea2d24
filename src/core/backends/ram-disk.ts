/**
 * RamDisk: a disk in memory, stored in fixed-size chunks allocated on first write, so a 2 PiB
 * RamDisk costs nothing until written and memory grows with the data, not the disk size.
 * Unmap frees whole chunks and zeroes partial ones (unmapBehavior `zeroes`). Resizable.
 */
import type { Disk, UnmapBehavior } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { checkRange, isPowerOfTwo } from '../disk/range.ts';

export interface RamDiskOptions {
  readonly sectors: number;
  readonly sectorSize?: number;
  readonly readOnly?: boolean;
  /** Allocation unit in bytes: a power of two, at least one sector. Default 64 KiB. */
  readonly chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024;

export class RamDisk implements Disk {
  readonly diskType = 'ram';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly diskId = undefined;
  readonly fuaRespected = true; // nothing is more durable than memory gets
  readonly unmapBehavior: UnmapBehavior = 'zeroes';
  readonly optimalUnmapSectors: number;
  readonly #chunkBytes: number;
  readonly #chunks = new Map<number, Uint8Array>();
  #sectors: number;

  constructor(options: RamDiskOptions) {
    this.sectorSize = options.sectorSize ?? 512;
    if (!isPowerOfTwo(this.sectorSize) || this.sectorSize < 512) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectorSize', `sector size ${this.sectorSize} is not a power of two >= 512`, { value: this.sectorSize });
    }
    this.#chunkBytes = Math.max(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, this.sectorSize);
    if (!isPowerOfTwo(this.#chunkBytes)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'chunkBytes', `chunk size ${this.#chunkBytes} is not a power of two`, { value: this.#chunkBytes });
    }
    if (!Number.isSafeInteger(options.sectors) || options.sectors < 0) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectors', `sector count ${options.sectors} is not a non-negative integer`, { value: options.sectors });
    }
    this.#sectors = options.sectors;
    this.physicalSectorSize = this.sectorSize;
    this.readOnly = options.readOnly ?? false;
    this.optimalUnmapSectors = this.#chunkBytes / this.sectorSize;
  }

  sectorCount(): number {
    return this.#sectors;
  }

  /** Bytes of memory holding data: what a user sees as "RAM used". */
  bytesAllocated(): number {
    return this.#chunks.size * this.#chunkBytes;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    checkRange('read', lba, buf.length / this.sectorSize, this.#sectors);
    this.#eachChunk(lba * this.sectorSize, buf.length, (chunk, at, from, len) => {
      const stored = this.#chunks.get(chunk);
      if (stored) buf.set(stored.subarray(at, at + len), from);
      else buf.fill(0, from, from + len);
    });
  }

  async write(lba: number, data: Uint8Array): Promise<void> {
    checkRange('write', lba, data.length / this.sectorSize, this.#sectors);
    this.#eachChunk(lba * this.sectorSize, data.length, (chunk, at, from, len) => {
      let stored = this.#chunks.get(chunk);
      if (!stored) {
        stored = new Uint8Array(this.#chunkBytes);
        this.#chunks.set(chunk, stored);
      }
      stored.set(data.subarray(from, from + len), at);
    });
  }

  async flush(): Promise<void> {}

  async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.#sectors);
    this.#zero(lba * this.sectorSize, count * this.sectorSize);
  }

  async resize(sectors: number): Promise<void> {
    if (sectors < this.#sectors) {
      // Zero through the end of the last chunk so a chunk wholly past the new end is freed.
      const from = sectors * this.sectorSize;
      const to = Math.ceil((this.#sectors * this.sectorSize) / this.#chunkBytes) * this.#chunkBytes;
      this.#zero(from, to - from);
    }
    this.#sectors = sectors;
  }

  async close(): Promise<void> {
    this.#chunks.clear();
  }

  #zero(start: number, length: number): void {
    const end = start + length;
    const first = Math.floor(start / this.#chunkBytes);
    const last = Math.floor((end - 1) / this.#chunkBytes);
    if (length === 0) return;
    // Walk whichever is smaller: the chunks in the range or the chunks allocated. Unmapping a
    // whole 2^53-byte disk must not visit 2^37 empty chunks.
    if (last - first + 1 <= this.#chunks.size) {
      this.#eachChunk(start, length, (chunk, at, _from, len) => this.#zeroIn(chunk, at, len));
      return;
    }
    for (const chunk of [...this.#chunks.keys()]) {
      if (chunk < first || chunk > last) continue;
      const chunkStart = chunk * this.#chunkBytes;
      const at = Math.max(start, chunkStart) - chunkStart;
      const stop = Math.min(end, chunkStart + this.#chunkBytes) - chunkStart;
      this.#zeroIn(chunk, at, stop - at);
    }
  }

  #zeroIn(chunk: number, at: number, len: number): void {
    if (len === this.#chunkBytes) this.#chunks.delete(chunk);
    else this.#chunks.get(chunk)?.fill(0, at, at + len);
  }

  /** Calls `fn` for each chunk piece of [start, start+length): chunk index, offset in chunk, offset in request, length. */
  #eachChunk(start: number, length: number, fn: (chunk: number, at: number, from: number, len: number) => void): void {
    let from = 0;
    while (from < length) {
      const pos = start + from;
      const chunk = Math.floor(pos / this.#chunkBytes);
      const at = pos - chunk * this.#chunkBytes;
      const len = Math.min(this.#chunkBytes - at, length - from);
      fn(chunk, at, from, len);
      from += len;
    }
  }
}
