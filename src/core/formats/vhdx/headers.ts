/**
 * The fixed-position structures of a VHDX file (MS-VHDX 2.1-2.2): the file type identifier at 0,
 * the two headers at 64 KiB and 128 KiB, and the two region tables at 192 KiB and 256 KiB.
 *
 * Promises
 * - `pickHeader` takes the valid header (signature "head", CRC-32C over its 4 KiB) with the
 *   highest sequence number; if neither is valid the image is CORRUPT_IMAGE (field 'header').
 *   Version other than 1, or a log version other than 0, is UNSUPPORTED.
 * - `parseRegionTable` checks the signature, CRC-32C over 64 KiB and the entry count, and
 *   returns the BAT and metadata regions; a region we do not know marked required is
 *   UNSUPPORTED (the spec says such a file must not be opened). The caller tries the copy at
 *   256 KiB when the first table is damaged.
 * Errors: DiskError CORRUPT_IMAGE naming the field, or UNSUPPORTED.
 */
import { DiskError } from '../../disk/errors.ts';
import { crc32cWithZeroedField } from '../../checksum/crc32c.ts';
import { BAT_REGION_GUID, METADATA_REGION_GUID, guidEqual, guidText } from './guid.ts';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const HEADER_OFFSETS = [64 * KiB, 128 * KiB] as const;
export const HEADER_SIZE = 4 * KiB;
export const REGION_TABLE_OFFSETS = [192 * KiB, 256 * KiB] as const;
export const REGION_TABLE_SIZE = 64 * KiB;
const MAX_REGION_ENTRIES = 2047;

export const FILE_SIGNATURE = 'vhdxfile';

export interface VhdxHeader {
  readonly sequenceNumber: bigint;
  readonly fileWriteGuid: Uint8Array;
  readonly dataWriteGuid: Uint8Array;
  readonly logGuid: Uint8Array;
  readonly logVersion: number;
  readonly version: number;
  readonly logLength: number;
  readonly logOffset: number;
  /** Which copy was taken: 0 (64 KiB) or 1 (128 KiB). */
  readonly copy: number;
}

export interface VhdxRegion {
  readonly fileOffset: number;
  readonly length: number;
}

export interface VhdxRegions {
  readonly bat: VhdxRegion;
  readonly metadata: VhdxRegion;
}

export function corrupt(name: string, field: string, message: string): DiskError {
  return new DiskError('CORRUPT_IMAGE', `${name}: VHDX ${field}: ${message}`, { field });
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** A u64 as a number, CORRUPT_IMAGE if it exceeds 2^53 - 1. */
export function u64(view: DataView, at: number, name: string, field: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(name, field, `${v} is too large`);
  return Number(v);
}

export function checkFileIdentifier(name: string, bytes: Uint8Array): void {
  if (ascii(bytes, 0, 8) !== FILE_SIGNATURE) throw corrupt(name, 'fileIdentifier', `signature is not "${FILE_SIGNATURE}"`);
}

function safeOrNaN(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(v);
}

/** Parses one 4 KiB header; undefined when its signature or checksum is wrong. */
export function parseHeader(bytes: Uint8Array, copy: number): VhdxHeader | undefined {
  if (bytes.length !== HEADER_SIZE || ascii(bytes, 0, 4) !== 'head') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) !== crc32cWithZeroedField(bytes, 4)) return undefined;
  return {
    sequenceNumber: view.getBigUint64(8, true),
    fileWriteGuid: bytes.slice(16, 32),
    dataWriteGuid: bytes.slice(32, 48),
    logGuid: bytes.slice(48, 64),
    logVersion: view.getUint16(64, true),
    version: view.getUint16(66, true),
    logLength: view.getUint32(68, true),
    logOffset: safeOrNaN(view.getBigUint64(72, true)),
    copy,
  };
}

/** The current header: the valid one with the higher sequence number. */
export function pickHeader(name: string, first: Uint8Array, second: Uint8Array): VhdxHeader {
  const a = parseHeader(first, 0);
  const b = parseHeader(second, 1);
  const header = a && b ? (b.sequenceNumber > a.sequenceNumber ? b : a) : (a ?? b);
  if (!header) throw corrupt(name, 'header', 'neither header copy has a valid signature and CRC-32C');
  if (header.version !== 1) throw new DiskError('UNSUPPORTED', `${name}: VHDX header version ${header.version} is not supported (only 1)`);
  if (header.logVersion !== 0) throw new DiskError('UNSUPPORTED', `${name}: VHDX log version ${header.logVersion} is not supported (only 0)`);
  if (!Number.isSafeInteger(header.logOffset)) throw corrupt(name, 'logOffset', 'is too large');
  return header;
}

/** Parses a 64 KiB region table; throws CORRUPT_IMAGE/UNSUPPORTED. */
export function parseRegionTable(name: string, bytes: Uint8Array): VhdxRegions {
  if (bytes.length !== REGION_TABLE_SIZE || ascii(bytes, 0, 4) !== 'regi') throw corrupt(name, 'regionTable', 'signature is not "regi"');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) !== crc32cWithZeroedField(bytes, 4)) throw corrupt(name, 'regionTable', 'CRC-32C mismatch');
  const count = view.getUint32(8, true);
  if (count > MAX_REGION_ENTRIES) throw corrupt(name, 'regionTable.entryCount', `${count} exceeds ${MAX_REGION_ENTRIES}`);
  let bat: VhdxRegion | undefined;
  let metadata: VhdxRegion | undefined;
  for (let i = 0; i < count; i++) {
    const at = 16 + 32 * i;
    const guid = bytes.subarray(at, at + 16);
    const fileOffset = u64(view, at + 16, name, 'regionTable.fileOffset');
    const length = view.getUint32(at + 24, true);
    const required = (view.getUint32(at + 28, true) & 1) !== 0;
    const region = { fileOffset, length };
    const isBat = guidEqual(guid, BAT_REGION_GUID);
    const isMeta = guidEqual(guid, METADATA_REGION_GUID);
    if (!isBat && !isMeta) {
      if (required) throw new DiskError('UNSUPPORTED', `${name}: VHDX region ${guidText(guid)} is required but not known to this reader`);
      continue;
    }
    const field = isBat ? 'regionTable.bat' : 'regionTable.metadata';
    if ((isBat && bat) || (isMeta && metadata)) throw corrupt(name, field, 'appears twice');
    if (fileOffset < MiB || fileOffset % MiB !== 0) throw corrupt(name, field, `offset ${fileOffset} is not a multiple of 1 MiB at or past 1 MiB`);
    if (length === 0 || length % MiB !== 0) throw corrupt(name, field, `length ${length} is not a positive multiple of 1 MiB`);
    if (isBat) bat = region;
    else metadata = region;
  }
  if (!bat) throw corrupt(name, 'regionTable.bat', 'the BAT region is missing');
  if (!metadata) throw corrupt(name, 'regionTable.metadata', 'the metadata region is missing');
  if (bat.fileOffset < metadata.fileOffset + metadata.length && metadata.fileOffset < bat.fileOffset + bat.length) {
    throw corrupt(name, 'regionTable.bat', 'the BAT and metadata regions overlap');
  }
  return { bat, metadata };
}
