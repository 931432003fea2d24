/**
 * `VhdxImage`: a parsed, validated VHDX file, and sector reads through its BAT. The Disk and
 * Layer views (disk.ts) are thin wrappers around it.
 *
 * Open order: file type identifier; current header (headers.ts); log replay if the header's
 * LogGuid is not zero (log.ts); then, through the replayed file, the region table (copy at
 * 192 KiB, else 256 KiB), the metadata region and the BAT.
 *
 * BAT (MS-VHDX 2.5): payload block i is entry i + floor(i / chunkRatio); the sector bitmap block
 * of chunk c is entry c * (chunkRatio + 1) + chunkRatio, chunkRatio = 2^23 * logicalSectorSize /
 * blockSize. Payload states, as this reader reads them:
 * - FULLY_PRESENT (6): data at FileOffsetMB * 1 MiB;
 * - PARTIALLY_PRESENT (7, differencing only): sectors whose sector-bitmap bit is set (bit s of
 *   the chunk's 1 MiB bitmap, LSB first) are data in the block, the rest come from the parent;
 * - ZERO (2), UNMAPPED (3) and UNDEFINED (1): present, reading as zeroes (for UNMAPPED and
 *   UNDEFINED the spec allows zeroes in every disk type, differencing included);
 * - NOT_PRESENT (0): nothing here: zeroes in a disk without a parent, the parent's data in a
 *   differencing disk;
 * - anything else, state 7 without a parent, a present block at offset 0 or a partially
 *   present block whose bitmap block is not present: CORRUPT_IMAGE 'bat'.
 * The whole BAT is read at open (bounded by the region length, and refused as UNSUPPORTED
 * beyond 256 MiB); data and bitmap offsets are checked against the file on each read.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { guidIsZero } from './guid.ts';
import {
  checkFileIdentifier,
  corrupt,
  HEADER_OFFSETS,
  HEADER_SIZE,
  MiB,
  parseRegionTable,
  pickHeader,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE,
  type VhdxHeader,
  type VhdxRegions,
} from './headers.ts';
import { replayLog } from './log.ts';
import { parseMetadata, type VhdxMetadata } from './metadata.ts';

export const BLOCK_STATE = { NOT_PRESENT: 0, UNDEFINED: 1, ZERO: 2, UNMAPPED: 3, FULLY_PRESENT: 6, PARTIALLY_PRESENT: 7 } as const;
const MAX_BAT_BYTES = 256 * MiB;
const MAX_METADATA_BYTES = 64 * MiB;

/** Receives the runs a read found: `data` runs are already in the buffer, `zero` runs must read as zero. */
export type RunSink = (lba: number, count: number, state: 'zero' | 'data') => void;

export class VhdxImage {
  readonly name: string;
  /** The file as read after log replay. */
  readonly file: ImageFile;
  readonly header: VhdxHeader;
  readonly regions: VhdxRegions;
  readonly metadata: VhdxMetadata;
  readonly entriesReplayed: number;
  readonly chunkRatio: number;
  readonly sectorsPerBlock: number;
  readonly dataBlocks: number;
  readonly sectorCount: number;
  readonly #bat: DataView;

  private constructor(name: string, file: ImageFile, header: VhdxHeader, regions: VhdxRegions, metadata: VhdxMetadata, bat: Uint8Array, replayed: number) {
    this.name = name;
    this.file = file;
    this.header = header;
    this.regions = regions;
    this.metadata = metadata;
    this.entriesReplayed = replayed;
    this.chunkRatio = (2 ** 23 * metadata.logicalSectorSize) / metadata.blockSize;
    this.sectorsPerBlock = metadata.blockSize / metadata.logicalSectorSize;
    this.dataBlocks = Math.ceil(metadata.virtualSize / metadata.blockSize);
    this.sectorCount = metadata.virtualSize / metadata.logicalSectorSize;
    this.#bat = new DataView(bat.buffer, bat.byteOffset, bat.byteLength);
  }

  static async open(raw: ImageFile, name = raw.name): Promise<VhdxImage> {
    const readAt = async (offset: number, length: number, field: string): Promise<Uint8Array> => {
      const bytes = new Uint8Array(length);
      await raw.read(offset, bytes, field);
      return bytes;
    };
    if (raw.size() < REGION_TABLE_OFFSETS[1] + REGION_TABLE_SIZE) throw corrupt(name, 'fileIdentifier', `${raw.size()} bytes is too small for a VHDX file`);
    checkFileIdentifier(name, await readAt(0, 8, 'fileIdentifier'));
    const header = pickHeader(name, await readAt(HEADER_OFFSETS[0], HEADER_SIZE, 'header'), await readAt(HEADER_OFFSETS[1], HEADER_SIZE, 'header'));
    let file = raw;
    let replayed = 0;
    if (!guidIsZero(header.logGuid)) ({ file, entriesReplayed: replayed } = await replayLog(name, raw, header));
    const readFile = async (offset: number, length: number, field: string): Promise<Uint8Array> => {
      const bytes = new Uint8Array(length);
      await file.read(offset, bytes, field);
      return bytes;
    };
    let regions: VhdxRegions;
    try {
      regions = parseRegionTable(name, await readFile(REGION_TABLE_OFFSETS[0], REGION_TABLE_SIZE, 'regionTable'));
    } catch (first) {
      if (!(first instanceof DiskError) || first.code !== 'CORRUPT_IMAGE') throw first;
      try {
        regions = parseRegionTable(name, await readFile(REGION_TABLE_OFFSETS[1], REGION_TABLE_SIZE, 'regionTable'));
      } catch {
        throw first;
      }
    }
    const inFile = (offset: number, length: number, field: string): void => {
      if (offset + length > file.size()) throw corrupt(name, field, `region at ${offset} (+${length}) lies outside the ${file.size()}-byte file`);
    };
    inFile(regions.metadata.fileOffset, regions.metadata.length, 'regionTable.metadata');
    inFile(regions.bat.fileOffset, regions.bat.length, 'regionTable.bat');
    if (regions.metadata.length > MAX_METADATA_BYTES) throw new DiskError('UNSUPPORTED', `${name}: VHDX metadata region of ${regions.metadata.length} bytes is too large`);
    const metadata = parseMetadata(name, await readFile(regions.metadata.fileOffset, regions.metadata.length, 'metadata'));
    const chunkRatio = (2 ** 23 * metadata.logicalSectorSize) / metadata.blockSize;
    const dataBlocks = Math.ceil(metadata.virtualSize / metadata.blockSize);
    const entries = metadata.hasParent ? Math.ceil(dataBlocks / chunkRatio) * (chunkRatio + 1) : dataBlocks + Math.floor((dataBlocks - 1) / chunkRatio);
    const batBytes = entries * 8;
    if (batBytes > regions.bat.length) throw corrupt(name, 'regionTable.bat', `the BAT needs ${batBytes} bytes but its region holds ${regions.bat.length}`);
    if (batBytes > MAX_BAT_BYTES) throw new DiskError('UNSUPPORTED', `${name}: VHDX BAT of ${batBytes} bytes is larger than this reader loads`);
    const bat = await readFile(regions.bat.fileOffset, batBytes, 'bat');
    return new VhdxImage(name, file, header, regions, metadata, bat, replayed);
  }

  get hasParent(): boolean {
    return this.metadata.hasParent;
  }

  /** BAT entry `index`: state and byte offset. */
  #entry(index: number): { state: number; offset: number } {
    const lo = this.#bat.getUint32(index * 8, true);
    const hi = this.#bat.getUint32(index * 8 + 4, true);
    // FileOffsetMB is bits 20..63; at most 2^44 MiB, so the byte offset can exceed 2^53: checked by the caller.
    return { state: lo & 7, offset: (hi * 4096 + (lo >>> 20)) * MiB };
  }

  /** The state and offset of payload block `block`, validated. */
  payloadBlock(block: number): { state: number; offset: number } {
    const e = this.#entry(block + Math.floor(block / this.chunkRatio));
    const s = e.state;
    if (s === 4 || s === 5) throw corrupt(this.name, 'bat', `payload block ${block} has invalid state ${s}`);
    if (s === BLOCK_STATE.PARTIALLY_PRESENT && !this.hasParent) throw corrupt(this.name, 'bat', `payload block ${block} is partially present in a disk without a parent`);
    if ((s === BLOCK_STATE.FULLY_PRESENT || s === BLOCK_STATE.PARTIALLY_PRESENT) && (e.offset < MiB || !Number.isSafeInteger(e.offset + this.metadata.blockSize))) {
      throw corrupt(this.name, 'bat', `payload block ${block} has invalid file offset ${e.offset}`);
    }
    return e;
  }

  /** Offset of the sector bitmap block covering payload block `block`. */
  #bitmapOffset(block: number): number {
    const chunk = Math.floor(block / this.chunkRatio);
    const e = this.#entry(chunk * (this.chunkRatio + 1) + this.chunkRatio);
    if (e.state !== 6 || e.offset < MiB || !Number.isSafeInteger(e.offset + MiB)) {
      throw corrupt(this.name, 'bat', `sector bitmap block of chunk ${chunk} is not present (state ${e.state}, offset ${e.offset})`);
    }
    return e.offset;
  }

  /** Bits [first, first + count) of the sector bitmap of `block`, first relative to the block. */
  async #bitmap(block: number, first: number, count: number): Promise<{ bits: Uint8Array; shift: number }> {
    const s = (block % this.chunkRatio) * this.sectorsPerBlock + first;
    const startByte = Math.floor(s / 8);
    const bits = new Uint8Array(Math.ceil((s + count) / 8) - startByte);
    await this.file.read(this.#bitmapOffset(block) + startByte, bits, 'sectorBitmap');
    return { bits, shift: s - startByte * 8 };
  }

  /**
   * Walks [lba, lba + count) block by block, telling `sink` which runs are present; with `buf`
   * (count sectors, for lba) it also reads data runs into it. Absent runs are left untouched.
   */
  async walk(lba: number, count: number, sink: RunSink, buf?: Uint8Array): Promise<void> {
    const ss = this.metadata.logicalSectorSize;
    const spb = this.sectorsPerBlock;
    let at = lba;
    const end = lba + count;
    while (at < end) {
      const block = Math.floor(at / spb);
      const inBlock = at - block * spb;
      const n = Math.min(end - at, spb - inBlock);
      const { state, offset } = this.payloadBlock(block);
      const readData = async (from: number, k: number): Promise<void> => {
        if (buf) await this.file.read(offset + from * ss, buf.subarray((block * spb + from - lba) * ss, (block * spb + from + k - lba) * ss), 'payload');
        sink(block * spb + from, k, 'data');
      };
      if (state === BLOCK_STATE.FULLY_PRESENT) {
        await readData(inBlock, n);
      } else if (state === BLOCK_STATE.ZERO || state === BLOCK_STATE.UNMAPPED || state === BLOCK_STATE.UNDEFINED) {
        sink(at, n, 'zero');
      } else if (state === BLOCK_STATE.PARTIALLY_PRESENT) {
        const { bits, shift } = await this.#bitmap(block, inBlock, n);
        const bit = (i: number): boolean => ((bits[(shift + i) >> 3]! >> ((shift + i) & 7)) & 1) === 1;
        let i = 0;
        while (i < n) {
          const set = bit(i);
          let j = i + 1;
          while (j < n && bit(j) === set) j++;
          if (set) await readData(inBlock + i, j - i);
          i = j;
        }
      }
      at += n;
    }
  }

  /** Bytes held as data: fully present blocks plus set bitmap bits (reads every partial block's bitmap). */
  async countDataBytes(): Promise<number> {
    let sectors = 0;
    await this.walk(0, this.sectorCount, (_lba, count, state) => {
      if (state === 'data') sectors += count;
    });
    return sectors * this.metadata.logicalSectorSize;
  }
}
