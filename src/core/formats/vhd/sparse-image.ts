/**
 * `VhdSparseImage`: the block machinery shared by dynamic and differencing VHDs, over an
 * `ImageFile`. The disk is cut into blocks of `blockSize` bytes; the BAT (big-endian u32 sector
 * offsets, 0xFFFFFFFF = unallocated) says where each block lives; an allocated block is a sector
 * bitmap (one bit per sector, most significant bit first, padded to 512 bytes) followed by the
 * block's data. A sector is *present* in this file iff its block is allocated and its bitmap bit
 * is set; presence is per sector, never per block (a differencing child that wrote one sector of
 * a block must still show its parent's other sectors).
 *
 * Reads (`readPresent`) fill only present sectors and report them to a marker; the Disk and Layer
 * wrappers in dynamic-disk.ts decide what absent sectors mean (zeroes, or "ask the parent").
 *
 * Writes are serialised. Crash ordering, so the metadata never points at data that is not there:
 * - a new block goes at the end of the file, where the footer was: its bitmap, the written
 *   sectors and the footer moved past the block are written, then flushed, and only then is the
 *   BAT entry written (the file ends with a valid footer at every step; the footer copy at 0
 *   never changes);
 * - in an allocated block, the sectors are written, and if bitmap bits must be set the data is
 *   flushed before the bitmap sector is rewritten.
 * Unmap is not implemented by the image: the wrappers report `unmapBehavior: 'ignored'`.
 *
 * Errors: `open` validates footer, header, BAT and every BAT entry against the file and throws
 * `CORRUPT_IMAGE` naming the field; a failing port surfaces as its DiskError (IO, ...).
 */
import { DiskError } from '../../disk/errors.ts';
import { checkRange } from '../../disk/range.ts';
import type { ImageFile } from '../image-file.ts';
import type { PresenceRun, SectorMarker } from '../../layered/layer.ts';
import { pushRun } from '../../layered/occupancy.ts';
import { VHD_FOOTER_SIZE, hasVhdCookie, parseVhdFooter, type VhdFooter } from './footer.ts';
import {
  VHD_DYNAMIC_HEADER_SIZE,
  VHD_UNALLOCATED,
  bitmapBytesFor,
  parseVhdDynamicHeader,
  type VhdDynamicHeader,
} from './dynamic-header.ts';

const SECTOR = 512;
/** Bitmaps kept in memory; beyond this the oldest are dropped and re-read when needed. */
const BITMAP_CACHE_LIMIT = 8192;

export interface VhdSparseOpenOptions {
  readonly readOnly?: boolean;
}

function corrupt(file: ImageFile, field: string, message: string, cause?: unknown): DiskError {
  return new DiskError('CORRUPT_IMAGE', `${file.name}: ${message}`, { field, cause });
}

async function readFooter(file: ImageFile, warnings: string[]): Promise<{ footer: VhdFooter; bytes: Uint8Array; atEnd: boolean }> {
  const size = file.size();
  if (size < VHD_FOOTER_SIZE + VHD_DYNAMIC_HEADER_SIZE) {
    throw corrupt(file, 'footer', `${size} bytes is too small to hold a dynamic VHD`);
  }
  const end = new Uint8Array(VHD_FOOTER_SIZE);
  await file.read(size - VHD_FOOTER_SIZE, end, 'footer');
  try {
    return { footer: parseVhdFooter(end), bytes: end, atEnd: true };
  } catch (e) {
    const start = new Uint8Array(VHD_FOOTER_SIZE);
    await file.read(0, start, 'footer copy');
    if (!hasVhdCookie(start)) throw prefixed(file, e);
    const footer = (() => {
      try {
        return parseVhdFooter(start);
      } catch {
        throw prefixed(file, e);
      }
    })();
    warnings.push(`${file.name}: the footer at the end is damaged (${(e as Error).message}); using the copy at offset 0`);
    return { footer, bytes: start, atEnd: hasVhdCookie(end) };
  }
}

function prefixed(file: ImageFile, e: unknown): unknown {
  return e instanceof DiskError ? new DiskError(e.code, `${file.name}: ${e.message}`, { field: e.field, cause: e }) : e;
}

export class VhdSparseImage {
  readonly file: ImageFile;
  readonly footer: VhdFooter;
  readonly header: VhdDynamicHeader;
  readonly readOnly: boolean;
  readonly sectors: number;
  readonly blockSectors: number;
  readonly bitmapBytes: number;
  readonly warnings: readonly string[];
  readonly #bat: Uint32Array;
  readonly #footerBytes: Uint8Array;
  readonly #bitmaps = new Map<number, Promise<Uint8Array>>();
  readonly #presentCounts = new Map<number, number>();
  #nextFree: number;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(
    file: ImageFile, footer: VhdFooter, footerBytes: Uint8Array, header: VhdDynamicHeader,
    bat: Uint32Array, nextFree: number, readOnly: boolean, warnings: string[],
  ) {
    this.file = file;
    this.footer = footer;
    this.#footerBytes = footerBytes;
    this.header = header;
    this.#bat = bat;
    this.#nextFree = nextFree;
    this.readOnly = readOnly;
    this.warnings = warnings;
    this.sectors = footer.currentSize / SECTOR;
    this.blockSectors = header.blockSize / SECTOR;
    this.bitmapBytes = bitmapBytesFor(header.blockSize);
  }

  static async open(file: ImageFile, options: VhdSparseOpenOptions = {}): Promise<VhdSparseImage> {
    const readOnly = options.readOnly ?? !file.writable;
    if (!readOnly && (!file.writable || !file.write || !file.flush)) {
      throw new DiskError('READ_ONLY', `${file.name}: the image file is not writable; open it read-only`);
    }
    const warnings: string[] = [];
    const { footer, bytes, atEnd } = await readFooter(file, warnings);
    if (footer.diskType === 'fixed') {
      throw new DiskError('UNSUPPORTED', `${file.name}: a fixed VHD has no dynamic header; open it with openVhd`);
    }
    const size = file.size();
    const dataOffset = footer.dataOffset;
    if (dataOffset % 512n !== 0n || dataOffset + BigInt(VHD_DYNAMIC_HEADER_SIZE) > BigInt(size)) {
      throw corrupt(file, 'dataOffset', `VHD footer: data offset 0x${dataOffset.toString(16)} does not point at a dynamic header inside the ${size}-byte file`);
    }
    const headerBytes = new Uint8Array(VHD_DYNAMIC_HEADER_SIZE);
    await file.read(Number(dataOffset), headerBytes, 'dynamic header');
    let header: VhdDynamicHeader;
    try {
      header = parseVhdDynamicHeader(headerBytes);
    } catch (e) {
      throw prefixed(file, e);
    }
    const blocks = Math.ceil(footer.currentSize / header.blockSize);
    if (header.maxTableEntries < blocks) {
      throw corrupt(file, 'maxTableEntries', `VHD dynamic header: max table entries ${header.maxTableEntries} cannot cover ${footer.currentSize} bytes in ${header.blockSize}-byte blocks (${blocks} needed)`);
    }
    const batBytes = Math.ceil((blocks * 4) / SECTOR) * SECTOR;
    if (header.tableOffset + blocks * 4 > size) {
      throw corrupt(file, 'tableOffset', `VHD dynamic header: the block allocation table at ${header.tableOffset} (${blocks} entries) lies outside the ${size}-byte file`);
    }
    const raw = new Uint8Array(blocks * 4);
    await file.read(header.tableOffset, raw, 'block allocation table');
    const view = new DataView(raw.buffer);
    const bat = new Uint32Array(blocks);
    const bitmapBytes = bitmapBytesFor(header.blockSize);
    const dataEnd = atEnd ? size - VHD_FOOTER_SIZE : size;
    let used = Math.max(Number(dataOffset) + VHD_DYNAMIC_HEADER_SIZE, header.tableOffset + batBytes);
    for (let b = 0; b < blocks; b++) {
      const entry = view.getUint32(b * 4);
      bat[b] = entry;
      if (entry === VHD_UNALLOCATED) continue;
      const start = entry * SECTOR;
      const end = start + bitmapBytes + header.blockSize;
      if (start < SECTOR || end > dataEnd) {
        throw corrupt(file, 'blockAllocationTable', `BAT entry ${b} (sector ${entry}) puts a block outside the image data (bytes 512..${dataEnd})`);
      }
      used = Math.max(used, end);
    }
    for (const loc of header.parentLocators) {
      if (loc.platformDataLength > 0 && loc.platformDataOffset + loc.platformDataLength <= size) {
        used = Math.max(used, loc.platformDataOffset + loc.platformDataLength);
      }
    }
    const nextFree = Math.ceil(Math.max(used, dataEnd) / SECTOR) * SECTOR;
    return new VhdSparseImage(file, footer, bytes, header, bat, nextFree, readOnly, warnings);
  }

  /** The BAT entry (sector offset or 0xFFFFFFFF) of block `b`, for tests and tools. */
  batEntry(b: number): number {
    return this.#bat[b] ?? VHD_UNALLOCATED;
  }

  get blockCount(): number {
    return this.#bat.length;
  }

  /**
   * Bytes of present sectors, per sector as `presence` reports them once `loadPresentCounts` has
   * run; before that, an allocated block whose bitmap was never read counts as full.
   */
  bytesPresent(): number {
    let total = 0;
    for (let b = 0; b < this.#bat.length; b++) {
      if (this.#bat[b] === VHD_UNALLOCATED) continue;
      total += (this.#presentCounts.get(b) ?? this.#sectorsIn(b)) * SECTOR;
    }
    return total;
  }

  /**
   * Reads the bitmap of every allocated block not counted yet, so that `bytesPresent` is exact
   * (one 512-byte-multiple read per block; the bitmaps are not kept). Queued behind writes.
   */
  loadPresentCounts(): Promise<void> {
    const run = this.#tail.then(async () => {
      const bits = new Uint8Array(this.bitmapBytes);
      for (let b = 0; b < this.#bat.length; b++) {
        const entry = this.#bat[b]!;
        if (entry === VHD_UNALLOCATED || this.#presentCounts.has(b)) continue;
        const cached = this.#bitmaps.get(b);
        const source = cached ? await cached : bits;
        if (!cached) await this.file.read(entry * SECTOR, bits, `sector bitmap of block ${b}`);
        this.#presentCounts.set(b, countBits(source, this.#sectorsIn(b)));
      }
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #sectorsIn(b: number): number {
    return Math.min(this.blockSectors, this.sectors - b * this.blockSectors);
  }

  #bitmap(b: number): Promise<Uint8Array> {
    const cached = this.#bitmaps.get(b);
    if (cached) return cached;
    const entry = this.#bat[b]!;
    const load = (async () => {
      const bits = new Uint8Array(this.bitmapBytes);
      await this.file.read(entry * SECTOR, bits, `sector bitmap of block ${b}`);
      this.#presentCounts.set(b, countBits(bits, this.#sectorsIn(b)));
      return bits;
    })();
    // Inserted before it settles, so a writer awaiting the same block shares this array.
    this.#cacheBitmap(b, load);
    load.catch(() => this.#bitmaps.delete(b));
    return load;
  }

  #cacheBitmap(b: number, bits: Promise<Uint8Array>): void {
    this.#bitmaps.delete(b);
    this.#bitmaps.set(b, bits);
    if (this.#bitmaps.size > BITMAP_CACHE_LIMIT) {
      const oldest = this.#bitmaps.keys().next().value;
      if (oldest !== undefined) this.#bitmaps.delete(oldest);
    }
  }

  /** Fills the present sectors of [lba, lba + buf/512) and marks them; leaves the rest untouched. */
  async readPresent(lba: number, buf: Uint8Array, marker?: SectorMarker): Promise<void> {
    const count = buf.length / SECTOR;
    checkRange('read', lba, count, this.sectors);
    for (let s = lba; s < lba + count;) {
      const b = Math.floor(s / this.blockSectors);
      const blockStart = b * this.blockSectors;
      const end = Math.min(lba + count, blockStart + this.blockSectors);
      const entry = this.#bat[b]!;
      if (entry !== VHD_UNALLOCATED) {
        const bits = await this.#bitmap(b);
        const dataAt = entry * SECTOR + this.bitmapBytes;
        for (const [rs, rc] of bitRuns(bits, s - blockStart, end - blockStart, true)) {
          const first = blockStart + rs;
          await this.file.read(dataAt + rs * SECTOR, buf.subarray((first - lba) * SECTOR, (first - lba + rc) * SECTOR), `data of block ${b}`);
          marker?.mark(first, rc);
        }
      }
      s = end;
    }
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    checkRange('presence', lba, count, this.sectors);
    const out: PresenceRun[] = [];
    for (let s = lba; s < lba + count;) {
      const b = Math.floor(s / this.blockSectors);
      const blockStart = b * this.blockSectors;
      const end = Math.min(lba + count, blockStart + this.blockSectors);
      if (this.#bat[b] !== VHD_UNALLOCATED) {
        const bits = await this.#bitmap(b);
        for (const [rs, rc] of bitRuns(bits, s - blockStart, end - blockStart, true)) pushRun(out, blockStart + rs, rc, 'data');
      }
      s = end;
    }
    return out;
  }

  /** Writes whole sectors; with `noOverwrite` only sectors not present are written. */
  async write(lba: number, data: Uint8Array, options: { fua?: boolean; noOverwrite?: boolean } = {}): Promise<void> {
    const count = data.length / SECTOR;
    checkRange('write', lba, count, this.sectors);
    if (this.readOnly) throw new DiskError('READ_ONLY', `${this.file.name}: the VHD is read-only`, { lba });
    const run = this.#tail.then(() => this.#write(lba, data, options));
    this.#tail = run.catch(() => undefined);
    await run;
  }

  flush(): Promise<void> {
    const run = this.#tail.then(() => this.file.flush?.());
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #write(lba: number, data: Uint8Array, options: { fua?: boolean; noOverwrite?: boolean }): Promise<void> {
    const count = data.length / SECTOR;
    for (let s = lba; s < lba + count;) {
      const b = Math.floor(s / this.blockSectors);
      const blockStart = b * this.blockSectors;
      const end = Math.min(lba + count, blockStart + this.blockSectors);
      const piece = data.subarray((s - lba) * SECTOR, (end - lba) * SECTOR);
      if (this.#bat[b] === VHD_UNALLOCATED) await this.#allocate(b, s - blockStart, piece);
      else await this.#writeInBlock(b, s - blockStart, piece, options.noOverwrite ?? false);
      s = end;
    }
    if (options.fua) await this.file.flush!();
  }

  async #allocate(b: number, first: number, piece: Uint8Array): Promise<void> {
    const file = this.file;
    const n = piece.length / SECTOR;
    const at = this.#nextFree;
    const blockEnd = at + this.bitmapBytes + this.header.blockSize;
    const bits = new Uint8Array(this.bitmapBytes);
    setBits(bits, first, n);
    const oldSize = file.size();
    if (at + this.bitmapBytes < oldSize) {
      // Old bytes (an old footer, garbage) lie under the new block: zero the whole block, since
      // readers that ignore the bitmap (QEMU) would return them.
      const whole = new Uint8Array(this.bitmapBytes + this.header.blockSize);
      whole.set(bits);
      whole.set(piece, this.bitmapBytes + first * SECTOR);
      await file.write!(at, whole);
    } else {
      // Past the old end the file system gives zeroes: write only the bitmap and the data.
      await file.write!(at, bits);
      await file.write!(at + this.bitmapBytes + first * SECTOR, piece);
    }
    await file.write!(blockEnd, this.#footerBytes);
    await file.flush!();
    const entry = new Uint8Array(4);
    new DataView(entry.buffer).setUint32(0, at / SECTOR);
    await file.write!(this.header.tableOffset + b * 4, entry);
    this.#presentCounts.set(b, n);
    this.#cacheBitmap(b, Promise.resolve(bits));
    this.#bat[b] = at / SECTOR;
    this.#nextFree = blockEnd;
  }

  async #writeInBlock(b: number, first: number, piece: Uint8Array, noOverwrite: boolean): Promise<void> {
    const file = this.file;
    const n = piece.length / SECTOR;
    const bits = await this.#bitmap(b);
    const dataAt = this.#bat[b]! * SECTOR + this.bitmapBytes;
    const runs: Array<[number, number]> = noOverwrite ? [...bitRuns(bits, first, first + n, false)] : [[first, n]];
    for (const [rs, rc] of runs) {
      await file.write!(dataAt + rs * SECTOR, piece.subarray((rs - first) * SECTOR, (rs - first + rc) * SECTOR));
    }
    const missing = [...bitRuns(bits, first, first + n, false)];
    if (missing.length === 0) return;
    // The data must be on disk before a bitmap bit claims it (else a crash exposes stale bytes
    // over the parent's); bitmap sectors are rewritten whole.
    await file.flush!();
    const updated = bits.slice();
    for (const [rs, rc] of missing) setBits(updated, rs, rc);
    const lo = Math.floor(first / 8 / SECTOR) * SECTOR;
    const hi = Math.ceil((first + n) / 8 / SECTOR) * SECTOR;
    await file.write!(this.#bat[b]! * SECTOR + lo, updated.subarray(lo, hi));
    bits.set(updated);
    this.#presentCounts.set(b, countBits(bits, this.#sectorsIn(b)));
    this.#cacheBitmap(b, Promise.resolve(bits));
  }
}

function setBits(bits: Uint8Array, first: number, count: number): void {
  for (let i = first; i < first + count; i++) bits[i >> 3]! |= 0x80 >> (i & 7);
}

function countBits(bits: Uint8Array, sectors: number): number {
  let n = 0;
  for (let i = 0; i < sectors; i++) if ((bits[i >> 3]! & (0x80 >> (i & 7))) !== 0) n++;
  return n;
}

/** Runs [start, count] of bits equal to `value` within [from, to), MSB-first within each byte. */
export function* bitRuns(bits: Uint8Array, from: number, to: number, value: boolean): Generator<[number, number]> {
  let runStart = -1;
  for (let i = from; i < to; i++) {
    const set = (bits[i >> 3]! & (0x80 >> (i & 7))) !== 0;
    if (set === value) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      yield [runStart, i - runStart];
      runStart = -1;
    }
  }
  if (runStart >= 0) yield [runStart, to - runStart];
}
