/**
 * The VHD footer: the 512-byte record at the end of every VHD (and copied at offset 0 of dynamic
 * and differencing ones). Layout, all big-endian, from the VHD specification:
 *
 *   0 cookie "conectix" | 8 features | 12 file format version 0x00010000 | 16 data offset (u64;
 *   all ones for a fixed disk) | 24 timestamp (seconds since 2000-01-01 UTC) | 28 creator
 *   application (4 chars) | 32 creator version | 36 creator host OS (4 chars) | 40 original size
 *   (u64) | 48 current size (u64) | 56 geometry: cylinders u16, heads u8, sectors/track u8 |
 *   60 disk type (2 fixed, 3 dynamic, 4 differencing) | 64 checksum (one's complement of the byte
 *   sum with this field zeroed) | 68 unique id (16 bytes) | 84 saved state (u8) | 85 reserved.
 *
 * `parseVhdFooter` checks what the footer alone can prove and throws `DiskError('CORRUPT_IMAGE')`
 * with `field` set to the first field at fault; checks against the file (its size, where the data
 * lives) belong to the opener of each disk type. `serializeVhdFooter` computes the checksum.
 */
import { DiskError } from '../../disk/errors.ts';
import { MAX_CHS_SECTORS, chsSectors, type ChsGeometry } from './geometry.ts';

export const VHD_FOOTER_SIZE = 512;
export const VHD_COOKIE = 'conectix';
export const VHD_VERSION = 0x0001_0000;
/** Features bit 1 is "reserved, must be set" in the spec; bit 0 marks a temporary disk. */
export const VHD_FEATURES_RESERVED = 0x2;
export const VHD_FIXED_DATA_OFFSET = 0xffff_ffff_ffff_ffffn;
/** Seconds from the Unix epoch to the VHD epoch, 2000-01-01T00:00:00Z. */
export const VHD_EPOCH_UNIX_SECONDS = 946_684_800;

export const VHD_DISK_TYPES = { fixed: 2, dynamic: 3, differencing: 4 } as const;
export type VhdDiskType = keyof typeof VHD_DISK_TYPES;

export interface VhdFooter {
  readonly features: number;
  readonly version: number;
  readonly dataOffset: bigint;
  /** Seconds since 2000-01-01 UTC. */
  readonly timestamp: number;
  /** Four bytes as Latin-1 characters, NULs kept ('tap\0'). */
  readonly creatorApplication: string;
  readonly creatorVersion: number;
  readonly creatorHostOs: string;
  readonly originalSize: number;
  readonly currentSize: number;
  readonly geometry: ChsGeometry;
  readonly diskType: VhdDiskType;
  readonly uniqueId: Uint8Array;
  readonly savedState: boolean;
}

const corrupt = (field: string, message: string): DiskError =>
  new DiskError('CORRUPT_IMAGE', `VHD footer: ${message}`, { field });

/** One's complement of the sum of all bytes, the checksum field counted as zero. */
export function vhdChecksum(footer: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < VHD_FOOTER_SIZE; i++) if (i < 64 || i >= 68) sum += footer[i] ?? 0;
  return ~sum >>> 0;
}

export function hasVhdCookie(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== VHD_COOKIE.charCodeAt(i)) return false;
  return true;
}

function fourCc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

function putFourCc(out: Uint8Array, at: number, value: string, field: string): void {
  if (value.length !== 4 || [...value].some((c) => c.charCodeAt(0) > 0xff)) {
    throw new DiskError('INVALID_INPUT', `VHD footer: ${field} '${value}' must be 4 Latin-1 characters`);
  }
  for (let i = 0; i < 4; i++) out[at + i] = value.charCodeAt(i);
}

function size64(view: DataView, at: number, field: string): number {
  const v = view.getBigUint64(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(field, `${field} ${v} is too large`);
  return Number(v);
}

export function parseVhdFooter(bytes: Uint8Array): VhdFooter {
  if (bytes.length !== VHD_FOOTER_SIZE) throw corrupt('footer', `expected ${VHD_FOOTER_SIZE} bytes, got ${bytes.length}`);
  if (!hasVhdCookie(bytes)) throw corrupt('cookie', `cookie is not '${VHD_COOKIE}'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(64);
  const computed = vhdChecksum(bytes);
  if (stored !== computed) {
    throw corrupt('checksum', `checksum 0x${hex32(stored)} does not match the contents (0x${hex32(computed)})`);
  }
  const version = view.getUint32(12);
  if (version !== VHD_VERSION) throw corrupt('version', `file format version 0x${hex32(version)} is not 0x00010000`);
  const typeCode = view.getUint32(60);
  const diskType = (Object.keys(VHD_DISK_TYPES) as VhdDiskType[]).find((k) => VHD_DISK_TYPES[k] === typeCode);
  if (diskType === undefined) throw corrupt('diskType', `disk type ${typeCode} is not fixed (2), dynamic (3) or differencing (4)`);
  const currentSize = size64(view, 48, 'currentSize');
  if (currentSize % 512 !== 0) throw corrupt('currentSize', `current size ${currentSize} is not a multiple of 512`);
  const originalSize = size64(view, 40, 'originalSize');
  const geometry: ChsGeometry = { cylinders: view.getUint16(56), heads: view.getUint8(58), sectorsPerTrack: view.getUint8(59) };
  if (geometry.heads < 1 || geometry.heads > 16 || geometry.sectorsPerTrack < 1) {
    throw corrupt('diskGeometry', `geometry ${geometryText(geometry)} needs 1-16 heads and at least one sector per track`);
  }
  // The largest geometry is a marker ("size me by current size", QEMU's force_size writes it), so
  // only smaller geometries must fit inside the disk.
  if (chsSectors(geometry) !== MAX_CHS_SECTORS && chsSectors(geometry) * 512 > currentSize) {
    throw corrupt('diskGeometry', `geometry ${geometryText(geometry)} describes more than the current size of ${currentSize} bytes`);
  }
  const dataOffset = view.getBigUint64(16);
  if (diskType === 'fixed' && dataOffset !== VHD_FIXED_DATA_OFFSET) {
    throw corrupt('dataOffset', `data offset 0x${dataOffset.toString(16)} of a fixed disk must be 0xffffffffffffffff`);
  }
  return {
    features: view.getUint32(8),
    version,
    dataOffset,
    timestamp: view.getUint32(24),
    creatorApplication: fourCc(bytes, 28),
    creatorVersion: view.getUint32(32),
    creatorHostOs: fourCc(bytes, 36),
    originalSize,
    currentSize,
    geometry,
    diskType,
    uniqueId: new Uint8Array(bytes.subarray(68, 84)), // a copy, even when given a Buffer
    savedState: bytes[84] !== 0,
  };
}

export function serializeVhdFooter(footer: VhdFooter): Uint8Array {
  const out = new Uint8Array(VHD_FOOTER_SIZE);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = VHD_COOKIE.charCodeAt(i);
  view.setUint32(8, footer.features);
  view.setUint32(12, footer.version);
  view.setBigUint64(16, footer.dataOffset);
  view.setUint32(24, footer.timestamp);
  putFourCc(out, 28, footer.creatorApplication, 'creatorApplication');
  view.setUint32(32, footer.creatorVersion);
  putFourCc(out, 36, footer.creatorHostOs, 'creatorHostOs');
  view.setBigUint64(40, BigInt(footer.originalSize));
  view.setBigUint64(48, BigInt(footer.currentSize));
  view.setUint16(56, footer.geometry.cylinders);
  view.setUint8(58, footer.geometry.heads);
  view.setUint8(59, footer.geometry.sectorsPerTrack);
  view.setUint32(60, VHD_DISK_TYPES[footer.diskType]);
  if (footer.uniqueId.length !== 16) throw new DiskError('INVALID_INPUT', 'VHD footer: unique id must be 16 bytes');
  out.set(footer.uniqueId, 68);
  out[84] = footer.savedState ? 1 : 0;
  view.setUint32(64, vhdChecksum(out));
  return out;
}

/** Seconds since 2000-01-01 UTC for a Unix time in milliseconds (clamped to the u32 field). */
export function vhdTimestamp(unixMs: number): number {
  return Math.min(0xffff_ffff, Math.max(0, Math.floor(unixMs / 1000) - VHD_EPOCH_UNIX_SECONDS));
}

export function vhdTimestampToDate(timestamp: number): Date {
  return new Date((timestamp + VHD_EPOCH_UNIX_SECONDS) * 1000);
}

/** The unique id as a UUID string, bytes in on-disk order. */
export function formatUniqueId(id: Uint8Array): string {
  const h = [...id].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function geometryText(g: ChsGeometry): string {
  return `${g.cylinders}/${g.heads}/${g.sectorsPerTrack}`;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
