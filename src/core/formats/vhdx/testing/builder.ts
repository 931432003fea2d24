/**
 * A small VHDX writer for tests: builds whole images in memory from a description (block states
 * and data, sector bitmaps, parent locator, log entries), so tests can make what qemu-img cannot:
 * differencing disks, 4096-byte logical sectors, non-empty logs and mutation seeds. It follows
 * MS-VHDX as the reader does, but is written independently of the reader's parsing code (only
 * the CRC and GUID helpers are shared, and those are tested against published vectors).
 *
 * Layout: identifier, headers and region tables in the first MiB; metadata at 1 MiB (1 MiB);
 * BAT at 2 MiB; an optional log region after it; then payload and sector bitmap blocks.
 */
import type { ImageFile } from '../../image-file.ts';
import { DiskError } from '../../../disk/errors.ts';
import { crc32c } from '../../../checksum/crc32c.ts';
import {
  BAT_REGION_GUID,
  FILE_PARAMETERS_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  METADATA_REGION_GUID,
  PAGE83_GUID,
  PARENT_LOCATOR_GUID,
  PHYSICAL_SECTOR_SIZE_GUID,
  VHDX_PARENT_LOCATOR_TYPE_GUID,
  VIRTUAL_DISK_SIZE_GUID,
  guidBytes,
} from '../guid.ts';

const MiB = 1024 * 1024;

export interface BuildBlock {
  /** BAT state (0, 1, 2, 3, 6, 7, or anything for corruption tests). */
  readonly state: number;
  /** Block contents for states 6 and 7 (zero-padded to the block size). */
  readonly data?: Uint8Array;
  /** For state 7: sectors (relative to the block) whose bitmap bit is set. */
  readonly presentSectors?: readonly number[];
}

export type BuildDescriptor = { readonly kind: 'data'; readonly fileOffset: number; readonly page: Uint8Array } | { readonly kind: 'zero'; readonly fileOffset: number; readonly length: number };

export interface BuildLogEntry {
  readonly sequence: bigint;
  /** Position of the entry in the log, and of the tail entry of its sequence. */
  readonly position: number;
  readonly tail: number;
  readonly descriptors: readonly BuildDescriptor[];
  readonly flushedFileOffset?: number;
  readonly lastFileOffset?: number;
}

export interface BuildOptions {
  readonly virtualSize: number;
  readonly blockSize?: number;
  readonly logicalSectorSize?: number;
  readonly physicalSectorSize?: number;
  readonly blocks?: ReadonlyMap<number, BuildBlock>;
  readonly diskId?: string;
  readonly dataWriteGuid?: string;
  /** Makes a differencing disk with these locator entries (parent_linkage required by readers). */
  readonly parent?: ReadonlyMap<string, string>;
  readonly logGuid?: string;
  /** Log entries; needs logGuid. The log region is 1 MiB unless logLength says otherwise. */
  readonly log?: readonly BuildLogEntry[];
  readonly logLength?: number;
  readonly headerSequence?: readonly [bigint, bigint];
}

export interface BuiltVhdx {
  readonly bytes: Uint8Array;
  readonly batOffset: number;
  readonly metadataOffset: number;
  readonly logOffset: number;
  readonly chunkRatio: number;
}

function setGuid(bytes: Uint8Array, at: number, text: string | Uint8Array): void {
  bytes.set(typeof text === 'string' ? guidBytes(text) : text, at);
}

function utf16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < s.length; i++) v.setUint16(2 * i, s.charCodeAt(i), true);
  return out;
}

export function sealCrc(bytes: Uint8Array, at = 4): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(at, 0, true);
  v.setUint32(at, crc32c(bytes), true);
}

export function headerBytes(sequence: bigint, dataWriteGuid: string, logGuid: string, logLength: number, logOffset: number): Uint8Array {
  const h = new Uint8Array(4096);
  const v = new DataView(h.buffer);
  h.set([0x68, 0x65, 0x61, 0x64]);
  v.setBigUint64(8, sequence, true);
  setGuid(h, 16, '11111111-2222-3333-4444-555555555555');
  setGuid(h, 32, dataWriteGuid);
  setGuid(h, 48, logGuid);
  v.setUint16(66, 1, true);
  v.setUint32(68, logLength, true);
  v.setBigUint64(72, BigInt(logOffset), true);
  sealCrc(h);
  return h;
}

export function buildLogEntry(logGuid: string, e: BuildLogEntry): Uint8Array {
  const dataCount = e.descriptors.filter((d) => d.kind === 'data').length;
  const descSectors = Math.ceil((64 + 32 * e.descriptors.length) / 4096);
  const length = (descSectors + dataCount) * 4096;
  const b = new Uint8Array(length);
  const v = new DataView(b.buffer);
  b.set([0x6c, 0x6f, 0x67, 0x65]);
  v.setUint32(8, length, true);
  v.setUint32(12, e.tail, true);
  v.setBigUint64(16, e.sequence, true);
  v.setUint32(24, e.descriptors.length, true);
  setGuid(b, 32, logGuid);
  v.setBigUint64(48, BigInt(e.flushedFileOffset ?? 0), true);
  v.setBigUint64(56, BigInt(e.lastFileOffset ?? 0), true);
  let sector = descSectors;
  e.descriptors.forEach((d, i) => {
    const at = 64 + 32 * i;
    v.setBigUint64(at + 16, BigInt(d.fileOffset), true);
    v.setBigUint64(at + 24, e.sequence, true);
    if (d.kind === 'zero') {
      b.set([0x7a, 0x65, 0x72, 0x6f], at);
      v.setBigUint64(at + 8, BigInt(d.length), true);
      return;
    }
    b.set([0x64, 0x65, 0x73, 0x63], at);
    b.set(d.page.subarray(4092, 4096), at + 4);
    b.set(d.page.subarray(0, 8), at + 8);
    const ds = sector++ * 4096;
    b.set([0x64, 0x61, 0x74, 0x61], ds);
    v.setUint32(ds + 4, Number(e.sequence >> 32n), true);
    b.set(d.page.subarray(8, 4092), ds + 8);
    v.setUint32(ds + 4092, Number(e.sequence & 0xffffffffn), true);
  });
  sealCrc(b);
  return b;
}

export function buildVhdx(o: BuildOptions): BuiltVhdx {
  const blockSize = o.blockSize ?? MiB;
  const lss = o.logicalSectorSize ?? 512;
  const chunkRatio = (2 ** 23 * lss) / blockSize;
  const dataBlocks = Math.ceil(o.virtualSize / blockSize);
  const entries = o.parent ? Math.ceil(dataBlocks / chunkRatio) * (chunkRatio + 1) : dataBlocks + Math.floor((dataBlocks - 1) / chunkRatio);
  const metadataOffset = MiB;
  const batOffset = 2 * MiB;
  const batLength = Math.max(MiB, Math.ceil((entries * 8) / MiB) * MiB);
  const logLength = o.log || o.logGuid ? (o.logLength ?? MiB) : 0;
  const logOffset = batOffset + batLength;
  let end = logOffset + logLength;
  // Allocate payload and bitmap blocks.
  const placed: Array<{ offset: number; data: Uint8Array }> = [];
  const bat = new Uint8Array(batLength);
  const bv = new DataView(bat.buffer);
  const setEntry = (index: number, state: number, offset: number): void => {
    bv.setBigUint64(index * 8, (BigInt(offset / MiB) << 20n) | BigInt(state), true);
  };
  const bitmaps = new Map<number, Uint8Array>();
  for (const [block, b] of [...(o.blocks ?? new Map<number, BuildBlock>())].sort((x, y) => x[0] - y[0])) {
    let offset = 0;
    if (b.state === 6 || b.state === 7) {
      offset = end;
      end += blockSize;
      const data = new Uint8Array(blockSize);
      if (b.data) data.set(b.data.subarray(0, blockSize));
      placed.push({ offset, data });
    }
    setEntry(block + Math.floor(block / chunkRatio), b.state, offset);
    if (b.state === 7) {
      const chunk = Math.floor(block / chunkRatio);
      let bm = bitmaps.get(chunk);
      if (!bm) bitmaps.set(chunk, (bm = new Uint8Array(MiB)));
      for (const s of b.presentSectors ?? []) {
        const bit = (block % chunkRatio) * (blockSize / lss) + s;
        bm[bit >> 3]! |= 1 << (bit & 7);
      }
    }
  }
  for (const [chunk, bm] of bitmaps) {
    placed.push({ offset: end, data: bm });
    setEntry(chunk * (chunkRatio + 1) + chunkRatio, 6, end);
    end += MiB;
  }
  const file = new Uint8Array(end);
  file.set(new TextEncoder().encode('vhdxfile'));
  file.set(utf16('disklab test builder'), 8);
  const dataWriteGuid = o.dataWriteGuid ?? 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE';
  const logGuid = o.logGuid ?? '00000000-0000-0000-0000-000000000000';
  const [s0, s1] = o.headerSequence ?? [1n, 2n];
  file.set(headerBytes(s0, dataWriteGuid, logGuid, logLength, logLength ? logOffset : 0), 64 * 1024);
  file.set(headerBytes(s1, dataWriteGuid, logGuid, logLength, logLength ? logOffset : 0), 128 * 1024);
  const region = new Uint8Array(64 * 1024);
  const rv = new DataView(region.buffer);
  region.set([0x72, 0x65, 0x67, 0x69]);
  rv.setUint32(8, 2, true);
  region.set(BAT_REGION_GUID, 16);
  rv.setBigUint64(32, BigInt(batOffset), true);
  rv.setUint32(40, batLength, true);
  rv.setUint32(44, 1, true);
  region.set(METADATA_REGION_GUID, 48);
  rv.setBigUint64(64, BigInt(metadataOffset), true);
  rv.setUint32(72, MiB, true);
  rv.setUint32(76, 1, true);
  sealCrc(region);
  file.set(region, 192 * 1024);
  file.set(region, 256 * 1024);
  // Metadata table and items.
  const items: Array<{ guid: Uint8Array; data: Uint8Array; flags: number }> = [];
  const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
  items.push({ guid: FILE_PARAMETERS_GUID, data: new Uint8Array([...u32(blockSize), ...u32(o.parent ? 2 : 0)]), flags: 4 });
  items.push({ guid: VIRTUAL_DISK_SIZE_GUID, data: new Uint8Array(new BigUint64Array([BigInt(o.virtualSize)]).buffer), flags: 6 });
  items.push({ guid: LOGICAL_SECTOR_SIZE_GUID, data: u32(lss), flags: 6 });
  items.push({ guid: PHYSICAL_SECTOR_SIZE_GUID, data: u32(o.physicalSectorSize ?? 4096), flags: 6 });
  items.push({ guid: PAGE83_GUID, data: guidBytes(o.diskId ?? '01234567-89AB-CDEF-0123-456789ABCDEF'), flags: 6 });
  if (o.parent) {
    const kv = [...o.parent];
    const head = new Uint8Array(20 + 12 * kv.length);
    const hv = new DataView(head.buffer);
    head.set(VHDX_PARENT_LOCATOR_TYPE_GUID);
    hv.setUint16(18, kv.length, true);
    const strings: number[] = [];
    let at = head.length;
    kv.forEach(([k, val], i) => {
      const kb = utf16(k);
      const vb = utf16(val);
      hv.setUint32(20 + 12 * i, at, true);
      hv.setUint16(28 + 12 * i, kb.length, true);
      strings.push(...kb);
      at += kb.length;
      hv.setUint32(24 + 12 * i, at, true);
      hv.setUint16(30 + 12 * i, vb.length, true);
      strings.push(...vb);
      at += vb.length;
    });
    items.push({ guid: PARENT_LOCATOR_GUID, data: new Uint8Array([...head, ...strings]), flags: 4 });
  }
  const meta = file.subarray(metadataOffset, metadataOffset + MiB);
  const mv = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
  meta.set(new TextEncoder().encode('metadata'));
  mv.setUint16(10, items.length, true);
  let itemAt = 64 * 1024;
  items.forEach((item, i) => {
    meta.set(item.guid, 32 + 32 * i);
    mv.setUint32(48 + 32 * i, itemAt, true);
    mv.setUint32(52 + 32 * i, item.data.length, true);
    mv.setUint32(56 + 32 * i, item.flags, true);
    meta.set(item.data, itemAt);
    itemAt += Math.ceil(item.data.length / 8) * 8;
  });
  file.set(bat, batOffset);
  for (const p of placed) file.set(p.data, p.offset);
  for (const e of o.log ?? []) {
    const bytes = buildLogEntry(logGuid, e);
    for (let i = 0; i < bytes.length; i++) file[logOffset + ((e.position + i) % logLength)] = bytes[i]!;
  }
  return { bytes: file, batOffset, metadataOffset, logOffset, chunkRatio };
}

/** An ImageFile over bytes in memory (read-only). */
export function memoryImageFile(bytes: Uint8Array, name = 'test.vhdx'): ImageFile {
  return {
    name,
    writable: false,
    size: () => bytes.length,
    async read(offset, into, field = 'data') {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > bytes.length) {
        throw new DiskError('CORRUPT_IMAGE', `${name}: ${field} at ${offset} (+${into.length}) outside the file`, { field });
      }
      into.set(bytes.subarray(offset, offset + into.length));
    },
    async close() {},
  };
}
