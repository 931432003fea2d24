/**
 * The VHD dynamic disk header: the 1024-byte record at the footer's data offset in dynamic and
 * differencing VHDs. Layout, all big-endian, from the VHD specification:
 *
 *   0 cookie "cxsparse" | 8 data offset (u64, unused: all ones) | 16 table offset (u64: the BAT) |
 *   24 header version 0x00010000 | 28 max table entries (u32) | 32 block size (u32 bytes) |
 *   36 checksum (one's complement of the byte sum, this field zeroed) | 40 parent unique id (16) |
 *   56 parent time stamp (u32, seconds since 2000) | 60 reserved | 64 parent unicode name (512
 *   bytes, UTF-16 big-endian, NUL padded) | 576 eight parent locator entries of 24 bytes: platform
 *   code (4 chars), platform data space (u32), platform data length (u32), reserved, platform data
 *   offset (u64) | 768 reserved (256 bytes).
 *
 * `parseVhdDynamicHeader` checks what the header alone can prove (cookie, checksum, version, a
 * block size that is a power of two in [512 B, 256 MiB], an entry count we are willing to hold);
 * offsets against the file are the opener's job. Every failure is `DiskError('CORRUPT_IMAGE')`
 * with `field` naming the first field at fault. `serializeVhdDynamicHeader` computes the checksum.
 */
import { DiskError } from '../../disk/errors.ts';

export const VHD_DYNAMIC_HEADER_SIZE = 1024;
export const VHD_DYNAMIC_COOKIE = 'cxsparse';
export const VHD_DYNAMIC_VERSION = 0x0001_0000;
export const VHD_DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;
export const VHD_MIN_BLOCK_SIZE = 512;
export const VHD_MAX_BLOCK_SIZE = 256 * 1024 * 1024;
/** 2^26 entries is a 256 MiB table: 128 TiB of 2 MiB blocks, far past VHD's 2040 GiB limit. */
export const VHD_MAX_TABLE_ENTRIES = 1 << 26;
export const VHD_UNALLOCATED = 0xffff_ffff;
export const VHD_PARENT_LOCATOR_COUNT = 8;
/** Platform codes of parent locators we understand (others are kept but not used). */
export const VHD_PLATFORM_CODES = ['W2ru', 'W2ku', 'Wi2r', 'Wi2k', 'Mac ', 'MacX'] as const;

export interface VhdParentLocatorEntry {
  /** Four Latin-1 characters; all NUL for an unused entry. */
  readonly platformCode: string;
  readonly platformDataSpace: number;
  readonly platformDataLength: number;
  readonly platformDataOffset: number;
}

export interface VhdDynamicHeader {
  readonly tableOffset: number;
  readonly maxTableEntries: number;
  readonly blockSize: number;
  readonly parentUniqueId: Uint8Array;
  readonly parentTimestamp: number;
  readonly parentUnicodeName: string;
  readonly parentLocators: readonly VhdParentLocatorEntry[];
}

const corrupt = (field: string, message: string): DiskError =>
  new DiskError('CORRUPT_IMAGE', `VHD dynamic header: ${message}`, { field });

export function dynamicHeaderChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < VHD_DYNAMIC_HEADER_SIZE; i++) if (i < 36 || i >= 40) sum += header[i] ?? 0;
  return ~sum >>> 0;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

function safe64(view: DataView, at: number, field: string): number {
  const v = view.getBigUint64(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(field, `${field} 0x${v.toString(16)} is too large`);
  return Number(v);
}

export function parseVhdDynamicHeader(bytes: Uint8Array): VhdDynamicHeader {
  if (bytes.length !== VHD_DYNAMIC_HEADER_SIZE) throw corrupt('header', `expected ${VHD_DYNAMIC_HEADER_SIZE} bytes, got ${bytes.length}`);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== VHD_DYNAMIC_COOKIE.charCodeAt(i)) throw corrupt('cookie', `cookie is not '${VHD_DYNAMIC_COOKIE}'`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(36);
  const computed = dynamicHeaderChecksum(bytes);
  if (stored !== computed) throw corrupt('checksum', `checksum 0x${stored.toString(16)} does not match the contents (0x${computed.toString(16)})`);
  const version = view.getUint32(24);
  if (version !== VHD_DYNAMIC_VERSION) throw corrupt('headerVersion', `header version 0x${version.toString(16)} is not 0x00010000`);
  const tableOffset = safe64(view, 16, 'tableOffset');
  if (tableOffset % 512 !== 0) throw corrupt('tableOffset', `table offset ${tableOffset} is not sector aligned`);
  const blockSize = view.getUint32(32);
  if (!isPowerOfTwo(blockSize) || blockSize < VHD_MIN_BLOCK_SIZE || blockSize > VHD_MAX_BLOCK_SIZE) {
    throw corrupt('blockSize', `block size ${blockSize} is not a power of two between ${VHD_MIN_BLOCK_SIZE} and ${VHD_MAX_BLOCK_SIZE}`);
  }
  const maxTableEntries = view.getUint32(28);
  if (maxTableEntries > VHD_MAX_TABLE_ENTRIES) throw corrupt('maxTableEntries', `max table entries ${maxTableEntries} exceeds ${VHD_MAX_TABLE_ENTRIES}`);
  const parentLocators: VhdParentLocatorEntry[] = [];
  for (let i = 0; i < VHD_PARENT_LOCATOR_COUNT; i++) {
    const at = 576 + i * 24;
    parentLocators.push({
      platformCode: String.fromCharCode(...bytes.subarray(at, at + 4)),
      platformDataSpace: view.getUint32(at + 4),
      platformDataLength: view.getUint32(at + 8),
      platformDataOffset: safe64(view, at + 16, `parentLocator${i}.platformDataOffset`),
    });
  }
  return {
    tableOffset,
    maxTableEntries,
    blockSize,
    parentUniqueId: new Uint8Array(bytes.subarray(40, 56)),
    parentTimestamp: view.getUint32(56),
    parentUnicodeName: decodeUtf16(bytes.subarray(64, 576), false),
    parentLocators,
  };
}

export function serializeVhdDynamicHeader(header: VhdDynamicHeader): Uint8Array {
  const out = new Uint8Array(VHD_DYNAMIC_HEADER_SIZE);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = VHD_DYNAMIC_COOKIE.charCodeAt(i);
  view.setBigUint64(8, 0xffff_ffff_ffff_ffffn);
  view.setBigUint64(16, BigInt(header.tableOffset));
  view.setUint32(24, VHD_DYNAMIC_VERSION);
  view.setUint32(28, header.maxTableEntries);
  view.setUint32(32, header.blockSize);
  if (header.parentUniqueId.length !== 16) throw new DiskError('INVALID_INPUT', 'VHD dynamic header: parent unique id must be 16 bytes');
  out.set(header.parentUniqueId, 40);
  view.setUint32(56, header.parentTimestamp);
  const name = encodeUtf16(header.parentUnicodeName, false);
  if (name.length > 512) throw new DiskError('INVALID_INPUT', `VHD dynamic header: parent name '${header.parentUnicodeName}' exceeds 256 UTF-16 units`);
  out.set(name, 64);
  if (header.parentLocators.length > VHD_PARENT_LOCATOR_COUNT) throw new DiskError('INVALID_INPUT', 'VHD dynamic header: at most 8 parent locators');
  header.parentLocators.forEach((loc, i) => {
    const at = 576 + i * 24;
    for (let j = 0; j < 4; j++) out[at + j] = loc.platformCode.charCodeAt(j) & 0xff;
    view.setUint32(at + 4, loc.platformDataSpace);
    view.setUint32(at + 8, loc.platformDataLength);
    view.setBigUint64(at + 16, BigInt(loc.platformDataOffset));
  });
  view.setUint32(36, dynamicHeaderChecksum(out));
  return out;
}

/** UTF-16 (big- or little-endian) up to the first NUL unit; unpaired surrogates are kept as they are. */
export function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string {
  const units: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const u = littleEndian ? (bytes[i]! | (bytes[i + 1]! << 8)) : ((bytes[i]! << 8) | bytes[i + 1]!);
    if (u === 0) break;
    units.push(u);
  }
  let s = '';
  for (let i = 0; i < units.length; i += 4096) s += String.fromCharCode(...units.slice(i, i + 4096));
  return s;
}

export function encodeUtf16(text: string, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i), littleEndian);
  return out;
}

/** Bytes of the per-block sector bitmap: one bit per sector, padded to whole 512-byte sectors. */
export function bitmapBytesFor(blockSize: number): number {
  return Math.ceil(blockSize / 512 / 8 / 512) * 512;
}
