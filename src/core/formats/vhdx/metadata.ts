/**
 * The VHDX metadata region (MS-VHDX 2.6): a 64 KiB table of items, and the system items this
 * reader understands: file parameters, virtual disk size, page 83 data (the disk id), logical
 * and physical sector sizes, and the parent locator of a differencing disk.
 *
 * Promises: `parseMetadata` returns validated values: block size a power of two in 1..256 MiB;
 * sector sizes 512 or 4096 (physical >= logical is not required by the spec, so the physical
 * size reported is max(logical, physical)); virtual size a positive multiple of the logical
 * sector size, at most 64 TiB; the parent locator present iff HasParent. Every item lies inside
 * the region (offset >= 64 KiB). An unknown item flagged required is UNSUPPORTED.
 * Errors: CORRUPT_IMAGE naming the field (e.g. 'metadata.blockSize'), or UNSUPPORTED.
 */
import { DiskError } from '../../disk/errors.ts';
import { corrupt, KiB, MiB } from './headers.ts';
import {
  FILE_PARAMETERS_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  PAGE83_GUID,
  PARENT_LOCATOR_GUID,
  PHYSICAL_SECTOR_SIZE_GUID,
  VHDX_PARENT_LOCATOR_TYPE_GUID,
  VIRTUAL_DISK_SIZE_GUID,
  guidEqual,
  guidText,
} from './guid.ts';

export const METADATA_TABLE_SIZE = 64 * KiB;
const MAX_METADATA_ENTRIES = 2047;
export const MAX_VIRTUAL_SIZE = 64 * 1024 ** 4;

export interface VhdxParentLocator {
  readonly locatorType: string;
  /** Key/value pairs in file order (keys are case-sensitive as stored). */
  readonly entries: ReadonlyMap<string, string>;
}

export interface VhdxMetadata {
  readonly blockSize: number;
  readonly leaveBlockAllocated: boolean;
  readonly hasParent: boolean;
  readonly virtualSize: number;
  readonly logicalSectorSize: number;
  readonly physicalSectorSize: number;
  readonly diskId: Uint8Array;
  readonly parentLocator: VhdxParentLocator | undefined;
}

interface Item {
  readonly offset: number;
  readonly length: number;
}

const SYSTEM_ITEMS = [FILE_PARAMETERS_GUID, VIRTUAL_DISK_SIZE_GUID, PAGE83_GUID, LOGICAL_SECTOR_SIZE_GUID, PHYSICAL_SECTOR_SIZE_GUID, PARENT_LOCATOR_GUID];

/** Parses the metadata region (`region` is all its bytes, at most a few MiB; the caller bounds it). */
export function parseMetadata(name: string, region: Uint8Array): VhdxMetadata {
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  if (region.length < METADATA_TABLE_SIZE || String.fromCharCode(...region.subarray(0, 8)) !== 'metadata') {
    throw corrupt(name, 'metadata', 'table signature is not "metadata"');
  }
  const count = view.getUint16(10, true);
  if (count > MAX_METADATA_ENTRIES) throw corrupt(name, 'metadata.entryCount', `${count} exceeds ${MAX_METADATA_ENTRIES}`);
  const items = new Map<number, Item>();
  for (let i = 0; i < count; i++) {
    const at = 32 + 32 * i;
    const guid = region.subarray(at, at + 16);
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    const flags = view.getUint32(at + 24, true);
    const isRequired = (flags & 4) !== 0;
    // System items are the ones with IsUser clear; a user item may reuse any GUID.
    const known = (flags & 1) !== 0 ? -1 : SYSTEM_ITEMS.findIndex((g) => guidEqual(g, guid));
    if (length > 1024 * 1024) throw corrupt(name, 'metadata.item', `item ${guidText(guid)} is ${length} bytes, more than 1 MiB`);
    if (length !== 0 && (offset < METADATA_TABLE_SIZE || offset + length > region.length)) {
      throw corrupt(name, 'metadata.item', `item ${guidText(guid)} at ${offset} (+${length}) lies outside the metadata region`);
    }
    if (known < 0) {
      if (isRequired) throw new DiskError('UNSUPPORTED', `${name}: VHDX metadata item ${guidText(guid)} is required but not known to this reader`);
      continue;
    }
    if (items.has(known)) throw corrupt(name, 'metadata.item', `item ${guidText(guid)} appears twice`);
    items.set(known, { offset, length });
  }
  const need = (index: number, field: string, min: number): DataView => {
    const item = items.get(index);
    if (!item) throw corrupt(name, field, 'the item is missing');
    if (item.length < min) throw corrupt(name, field, `item is ${item.length} bytes, expected at least ${min}`);
    return new DataView(region.buffer, region.byteOffset + item.offset, item.length);
  };

  const params = need(0, 'metadata.fileParameters', 8);
  const blockSize = params.getUint32(0, true);
  const flags = params.getUint32(4, true);
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) {
    throw corrupt(name, 'metadata.blockSize', `${blockSize} is not a power of two between 1 MiB and 256 MiB`);
  }
  const logicalSectorSize = need(3, 'metadata.logicalSectorSize', 4).getUint32(0, true);
  if (logicalSectorSize !== 512 && logicalSectorSize !== 4096) throw corrupt(name, 'metadata.logicalSectorSize', `${logicalSectorSize} is not 512 or 4096`);
  const physicalSectorSize = need(4, 'metadata.physicalSectorSize', 4).getUint32(0, true);
  if (physicalSectorSize !== 512 && physicalSectorSize !== 4096) throw corrupt(name, 'metadata.physicalSectorSize', `${physicalSectorSize} is not 512 or 4096`);
  const sizeBig = need(1, 'metadata.virtualDiskSize', 8).getBigUint64(0, true);
  if (sizeBig === 0n || sizeBig > BigInt(MAX_VIRTUAL_SIZE) || sizeBig % BigInt(logicalSectorSize) !== 0n) {
    throw corrupt(name, 'metadata.virtualDiskSize', `${sizeBig} is not a positive multiple of ${logicalSectorSize} up to 64 TiB`);
  }
  const page83 = need(2, 'metadata.page83Data', 16);
  const diskId = new Uint8Array(page83.buffer, page83.byteOffset, 16).slice();
  const hasParent = (flags & 2) !== 0;
  let parentLocator: VhdxParentLocator | undefined;
  if (hasParent) {
    const item = items.get(5);
    if (!item) throw corrupt(name, 'metadata.parentLocator', 'HasParent is set but the parent locator is missing');
    parentLocator = parseParentLocator(name, region.subarray(item.offset, item.offset + item.length));
  }
  return {
    blockSize,
    leaveBlockAllocated: (flags & 1) !== 0,
    hasParent,
    virtualSize: Number(sizeBig),
    logicalSectorSize,
    physicalSectorSize: Math.max(logicalSectorSize, physicalSectorSize),
    diskId,
    parentLocator,
  };
}

/** The parent locator item: a type GUID, then key/value entries pointing at UTF-16LE strings. */
export function parseParentLocator(name: string, bytes: Uint8Array): VhdxParentLocator {
  const field = 'metadata.parentLocator';
  if (bytes.length < 20) throw corrupt(name, field, `item is ${bytes.length} bytes, too small for its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = bytes.subarray(0, 16);
  if (!guidEqual(type, VHDX_PARENT_LOCATOR_TYPE_GUID)) {
    throw new DiskError('UNSUPPORTED', `${name}: VHDX parent locator type ${guidText(type)} is not supported`);
  }
  const count = view.getUint16(18, true);
  if (20 + 12 * count > bytes.length) throw corrupt(name, `${field}.keyValueCount`, `${count} entries do not fit in the item`);
  const entries = new Map<string, string>();
  const utf16 = (offset: number, length: number, what: string): string => {
    if (length === 0 || length % 2 !== 0 || offset + length > bytes.length) {
      throw corrupt(name, `${field}.${what}`, `string at ${offset} (+${length}) is empty, odd-sized or outside the item`);
    }
    let s = '';
    for (let i = 0; i < length; i += 2) s += String.fromCharCode(view.getUint16(offset + i, true));
    return s;
  };
  for (let i = 0; i < count; i++) {
    const at = 20 + 12 * i;
    const key = utf16(view.getUint32(at, true), view.getUint16(at + 8, true), 'key');
    const value = utf16(view.getUint32(at + 4, true), view.getUint16(at + 10, true), 'value');
    if (entries.has(key)) throw corrupt(name, `${field}.key`, `key "${key}" appears twice`);
    entries.set(key, value);
  }
  if (!entries.has('parent_linkage')) throw corrupt(name, `${field}.parent_linkage`, 'the parent_linkage entry is missing');
  return { locatorType: guidText(type), entries };
}
