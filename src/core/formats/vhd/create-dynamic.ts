/**
 * `createVhdDynamic`: makes an empty dynamic VHD, or a differencing VHD over a parent, in an
 * (expected empty, writable) `ImageFile`, and opens it. Layout: footer copy at 0, dynamic header
 * at 512, BAT at 1536 (all entries 0xFFFFFFFF, padded to whole sectors), parent locator data
 * (differencing only), footer at the end. Blocks are then allocated by writes (sparse-image.ts).
 *
 * The footer is the one fixed.ts writes (creator "win ", so QEMU sizes the disk by current size,
 * not by CHS geometry), with disk type dynamic/differencing and data offset 512. A differencing
 * child records the parent's unique id and footer timestamp, its base name as parent unicode
 * name, and a W2ru (relative name) or W2ku (absolute name) locator for `parent.name`.
 *
 * Errors: bad sizes or block sizes are DiskConfigError (INVALID_PARAMETER); a parent that is not
 * a VHD is CORRUPT_IMAGE; a parent of another size is DiskConfigError (field size).
 */
import { DiskConfigError, DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { VHD_FOOTER_SIZE, hasVhdCookie, parseVhdFooter, serializeVhdFooter, type VhdFooter } from './footer.ts';
import { fixedFooterFor } from './fixed.ts';
import {
  VHD_DEFAULT_BLOCK_SIZE,
  VHD_DYNAMIC_HEADER_SIZE,
  VHD_MAX_BLOCK_SIZE,
  serializeVhdDynamicHeader,
  type VhdParentLocatorEntry,
} from './dynamic-header.ts';
import { baseName, encodeParentLocators } from './parent-locator.ts';
import { VhdSparseImage } from './sparse-image.ts';

export interface VhdDynamicCreateOptions {
  /** Bytes per block, a power of two from 512 B to 256 MiB; default 2 MiB (Hyper-V's and QEMU's). */
  readonly blockSize?: number;
  /** Makes a differencing disk over `file`, recording `name` (as the caller will resolve it later). */
  readonly parent?: { readonly file: ImageFile; readonly name: string };
  readonly uniqueId?: Uint8Array;
  /** Unix ms for the footer timestamp; default Date.now(). */
  readonly now?: number;
}

/** Reads a VHD's footer from its end, or from the copy at 0 when the end one is damaged. */
export async function readAnyVhdFooter(file: ImageFile): Promise<VhdFooter> {
  const size = file.size();
  if (size < VHD_FOOTER_SIZE) throw new DiskError('CORRUPT_IMAGE', `${file.name}: too small to be a VHD`, { field: 'footer' });
  const end = new Uint8Array(VHD_FOOTER_SIZE);
  await file.read(size - VHD_FOOTER_SIZE, end, 'footer');
  if (hasVhdCookie(end)) return parseVhdFooter(end);
  const start = new Uint8Array(VHD_FOOTER_SIZE);
  await file.read(0, start, 'footer copy');
  return parseVhdFooter(hasVhdCookie(start) ? start : end);
}

export async function createVhdDynamic(file: ImageFile, sizeBytes: number, options: VhdDynamicCreateOptions = {}): Promise<VhdSparseImage> {
  const blockSize = options.blockSize ?? VHD_DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < 512 || blockSize > VHD_MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'blockSize', `block size ${blockSize} must be a power of two from 512 to ${VHD_MAX_BLOCK_SIZE}`, { value: blockSize });
  }
  if (!file.writable || !file.write || !file.truncate || !file.flush) {
    throw new DiskError('READ_ONLY', `${file.name}: cannot create a VHD in a read-only file`);
  }
  const base = fixedFooterFor(sizeBytes, options);
  const parent = options.parent;
  const parentFooter = parent ? await readAnyVhdFooter(parent.file) : undefined;
  if (parentFooter && parentFooter.currentSize !== sizeBytes) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `a differencing VHD must have its parent's size (${parentFooter.currentSize} bytes), not ${sizeBytes}`, { value: sizeBytes });
  }
  const footer: VhdFooter = { ...base, diskType: parent ? 'differencing' : 'dynamic', dataOffset: 512n };
  const entries = Math.ceil(sizeBytes / blockSize);
  const tableOffset = VHD_FOOTER_SIZE + VHD_DYNAMIC_HEADER_SIZE;
  const batBytes = Math.max(512, Math.ceil((entries * 4) / 512) * 512);
  const bat = new Uint8Array(batBytes).fill(0xff); // every entry 0xFFFFFFFF: unallocated
  let next = tableOffset + batBytes;
  const locators: VhdParentLocatorEntry[] = [];
  const locatorData: Array<[number, Uint8Array]> = [];
  for (const loc of parent ? encodeParentLocators(parent.name) : []) {
    const space = Math.max(512, Math.ceil(loc.data.length / 512) * 512);
    locators.push({ platformCode: loc.platformCode, platformDataSpace: space, platformDataLength: loc.data.length, platformDataOffset: next });
    locatorData.push([next, loc.data]);
    next += space;
  }
  const header = serializeVhdDynamicHeader({
    tableOffset,
    maxTableEntries: entries,
    blockSize,
    parentUniqueId: parentFooter?.uniqueId ?? new Uint8Array(16),
    parentTimestamp: parentFooter?.timestamp ?? 0,
    parentUnicodeName: parent ? baseName(parent.name) : '',
    parentLocators: locators,
  });
  const footerBytes = serializeVhdFooter(footer);
  await file.truncate(0);
  await file.write(0, footerBytes);
  await file.write(VHD_FOOTER_SIZE, header);
  await file.write(tableOffset, bat);
  for (const [at, data] of locatorData) await file.write(at, data);
  await file.write(next, footerBytes);
  await file.flush();
  return VhdSparseImage.open(file, { readOnly: false });
}
