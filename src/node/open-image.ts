/**
 * Opening and creating disk images by path in Node: the file goes through `NodeSyncFile`, the
 * format is named or detected by content (`detectFormat`), and the disk comes back wrapped in
 * `openDisk`. Format names follow qemu-img where they differ from ours: 'vpc' means 'vhd'.
 *
 * Errors: DiskError from the port or the format (IO, READ_ONLY, CORRUPT_IMAGE, UNSUPPORTED ...);
 * a bad format name or size is a DiskConfigError naming the parameter. On any failure the file is
 * closed, and a file this module was creating is removed.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { createVhdDynamic } from '../core/formats/vhd/create-dynamic.ts';
import { createQcow2, QCOW2_BACKING_FORMATS } from '../core/formats/qcow2/create.ts';
import type { Disk } from '../core/disk/disk.ts';
import { DiskConfigError } from '../core/disk/errors.ts';
import { openDisk } from '../core/disk/open-disk.ts';
import { detectFormat, IMAGE_FORMATS, type ImageFormat } from '../core/formats/detect.ts';
import { openFormat } from '../core/formats/open-format.ts';
import { VhdFixedDisk } from '../core/formats/vhd/fixed.ts';
import type { VhdFooter } from '../core/formats/vhd/footer.ts';
import { NodeSyncFile } from './node-sync-file.ts';
import { imageFileFromSync } from '../core/formats/image-file.ts';
import { openStructuredQcow2, openStructuredVhd, openStructuredVhdx, type StructuredImage } from '../core/formats/open-structured.ts';
import { nodeInflate } from './node-inflate.ts';
import { vhdSubformat } from '../core/formats/vhd/open.ts';
import { nodeParentResolver } from './resolve-parent.ts';
import { isHttpUrl, openUrl } from './open-url.ts';

export interface OpenedImage {
  readonly path: string;
  readonly format: ImageFormat;
  /** True when the format came from the content rather than the caller. */
  readonly detected: boolean;
  readonly disk: Disk;
  /** The footer of a fixed VHD, for `info`. */
  readonly vhdFooter: VhdFooter | undefined;
  /** For dynamic and differencing images: subformat, chain and warnings, for `info`. */
  readonly structured?: StructuredImage;
}

export interface OpenImageOptions {
  /** 'raw', 'vhd' (or qemu's 'vpc'), 'vhdx', 'qcow2'; default: detect by content. */
  readonly format?: string;
  readonly readOnly?: boolean;
}

/** Maps a user-facing format name to ours ('vpc' is qemu-img's name for VHD). */
export function parseFormatName(name: string, field = 'format'): ImageFormat {
  const lower = name.toLowerCase();
  const format = lower === 'vpc' ? 'vhd' : lower;
  if (!(IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new DiskConfigError('UNSUPPORTED_FORMAT', field, `unknown image format '${name}' (known: raw, vhd (vpc), vhdx, qcow2)`, { value: name });
  }
  return format as ImageFormat;
}

export async function openImage(path: string, options: OpenImageOptions = {}): Promise<OpenedImage> {
  // http(s) URLs are read by range requests (issue 5); everything else is a local path.
  if (isHttpUrl(path)) return openUrl(path, options);
  const readOnly = options.readOnly ?? true;
  const named = options.format === undefined ? undefined : parseFormatName(options.format);
  const file = new NodeSyncFile(path, { readOnly });
  try {
    const format = named ?? detectFormat(file, path).format;
    if (format === 'vhd' && vhdSubformat(file, path) !== 'fixed') {
      const image = imageFileFromSync(file, { name: path, writable: !readOnly });
      const structured = await openStructuredVhd(image, { readOnly, resolveParent: nodeParentResolver(path) });
      return { path, format, detected: named === undefined, disk: openDisk(structured.disk), vhdFooter: undefined, structured };
    }
    if (format === 'vhdx' || format === 'qcow2') {
      const image = imageFileFromSync(file, { name: path, writable: format === 'qcow2' && !readOnly });
      const options = { readOnly, resolveParent: nodeParentResolver(path), inflate: nodeInflate };
      const structured = format === 'vhdx' ? await openStructuredVhdx(image, options) : await openStructuredQcow2(image, options);
      return { path, format, detected: named === undefined, disk: openDisk(structured.disk), vhdFooter: undefined, structured };
    }
    const inner = openFormat(file, format, { readOnly, name: path });
    const vhdFooter = inner instanceof VhdFixedDisk ? inner.footer : undefined;
    return { path, format, detected: named === undefined, disk: openDisk(inner), vhdFooter };
  } catch (e) {
    file.close();
    throw e;
  }
}

export interface CreateImageOptions {
  /** For VHD: 'fixed' (default) or 'dynamic'. */
  readonly subformat?: string;
  /**
   * For a dynamic VHD: the parent image's path, making a differencing VHD over it. For qcow2: the
   * backing file's name as it is stored, relative to the new image's folder unless absolute
   * (as qemu-img reads it).
   */
  readonly backing?: string;
  /** For qcow2 with a backing file: its format (qcow2, raw, vpc); default: detected by content. */
  readonly backingFormat?: string;
  /** For qcow2: the cluster size in bytes (default 64 KiB). */
  readonly clusterSize?: number;
}

/** Creatable formats and their subformats. */
export const CREATE_FORMATS: Readonly<Record<string, readonly string[]>> = { raw: [], vhd: ['fixed', 'dynamic'], qcow2: [] };

/**
 * Creates a new zeroed image of `sizeBytes` (a multiple of 512) at `path`, which must not exist,
 * and opens it writable. raw, fixed or dynamic (or differencing) VHD, qcow2 (optionally over a
 * backing file; then a size of 0 means the backing file's size).
 */
export async function createImage(path: string, format: ImageFormat, sizeBytes: number, options: CreateImageOptions = {}): Promise<OpenedImage> {
  checkCreatable(format, options);
  if (format === 'vhd' && (options.subformat === 'dynamic' || options.backing !== undefined)) return createDynamicVhd(path, sizeBytes, options.backing);
  if (format === 'qcow2') return createQcow2Image(path, sizeBytes, options);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes % 512 !== 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `image size ${sizeBytes} must be a non-negative multiple of 512 bytes`, { value: sizeBytes });
  }
  const file = new NodeSyncFile(path, { create: true });
  try {
    if (format === 'vhd') {
      const disk = VhdFixedDisk.create(file, sizeBytes, { name: path });
      return { path, format, detected: false, disk: openDisk(disk), vhdFooter: disk.footer };
    }
    file.truncate(sizeBytes);
    const disk = openFormat(file, 'raw', { name: path });
    return { path, format, detected: false, disk: openDisk(disk), vhdFooter: undefined };
  } catch (e) {
    file.close();
    fs.rmSync(path, { force: true });
    throw e;
  }
}

function checkCreatable(format: ImageFormat, options: CreateImageOptions): void {
  const subformats = CREATE_FORMATS[format];
  if (subformats === undefined) {
    throw new DiskConfigError('UNSUPPORTED_FORMAT', 'format', `creating ${format} images is not supported (can create: raw, vhd, qcow2)`, { value: format });
  }
  const sub = options.subformat;
  if (options.backing !== undefined && !(format === 'qcow2' || (format === 'vhd' && sub !== 'fixed'))) {
    throw new DiskConfigError('INVALID_PARAMETER', 'backing', 'a backing file needs -f vhd -o subformat=dynamic (a differencing VHD), or -f qcow2', { value: options.backing });
  }
  if (options.backingFormat !== undefined && format !== 'qcow2') {
    throw new DiskConfigError('INVALID_PARAMETER', 'backing_fmt', 'a backing format is only recorded by qcow2 images', { value: options.backingFormat });
  }
  if (sub === undefined) return;
  if (!subformats.includes(sub)) {
    const known = subformats.length === 0 ? `${format} has no subformats` : `known: ${subformats.join(', ')}`;
    throw new DiskConfigError('INVALID_PARAMETER', 'subformat', `unknown subformat '${sub}' for ${format} (${known})`, { value: sub });
  }
}

/**
 * A dynamic VHD, or with `backing` a differencing VHD whose parent locators name the parent
 * relative to the child (and absolutely), as Hyper-V writes them. The parent's size is the size.
 */
async function createDynamicVhd(path: string, sizeBytes: number, backing: string | undefined): Promise<OpenedImage> {
  const parent = backing === undefined ? undefined : await openImage(backing, { readOnly: true });
  const file = new NodeSyncFile(path, { create: true });
  try {
    const image = imageFileFromSync(file, { name: path, writable: true });
    const size = parent === undefined ? sizeBytes : parent.disk.sectorCount() * parent.disk.sectorSize;
    const parentFile = backing === undefined ? undefined : imageFileFromSync(new NodeSyncFile(backing, { readOnly: true }), { name: backing, writable: false });
    try {
      await createVhdDynamic(image, size, parentFile === undefined ? {} : { parent: { file: parentFile, name: relativeParentName(path, backing!) } });
    } finally {
      await parentFile?.close();
    }
    await image.flush?.();
  } catch (e) {
    file.close();
    fs.rmSync(path, { force: true });
    throw e;
  } finally {
    await parent?.disk.close();
  }
  file.close();
  return openImage(path, { format: 'vhd', readOnly: false });
}

/**
 * A qcow2 image, optionally over a backing file whose name is stored as given. Without a size
 * (0), the backing file's virtual size is used; the backing format is recorded as given, or as
 * detected by opening the backing file (QEMU's names: qcow2, raw, vpc).
 */
async function createQcow2Image(path: string, sizeBytes: number, options: CreateImageOptions): Promise<OpenedImage> {
  let size = sizeBytes;
  let backingFormat = options.backingFormat === undefined ? undefined : qemuFormatName(parseFormatName(options.backingFormat, 'backing_fmt'));
  if (backingFormat !== undefined && !(QCOW2_BACKING_FORMATS as readonly string[]).includes(backingFormat)) {
    throw new DiskConfigError('INVALID_PARAMETER', 'backing_fmt', `backing format '${options.backingFormat}' is not one of ${QCOW2_BACKING_FORMATS.join(', ')}`, { value: options.backingFormat });
  }
  if (options.backing !== undefined) {
    const backingPath = nodePath.resolve(nodePath.dirname(nodePath.resolve(path)), options.backing);
    const backing = await openImage(backingPath, { readOnly: true, ...(options.backingFormat === undefined ? {} : { format: options.backingFormat }) });
    try {
      if (size === 0) size = backing.disk.sectorCount() * backing.disk.sectorSize;
      backingFormat ??= qemuFormatName(backing.format);
    } finally {
      await backing.disk.close();
    }
  }
  const file = new NodeSyncFile(path, { create: true });
  try {
    const image = imageFileFromSync(file, { name: path, writable: true });
    await createQcow2(image, size, {
      ...(options.clusterSize === undefined ? {} : { clusterSize: options.clusterSize }),
      ...(options.backing === undefined ? {} : { backingFile: options.backing, backingFormat }),
    });
  } catch (e) {
    file.close();
    fs.rmSync(path, { force: true });
    throw e;
  }
  file.close();
  return openImage(path, { format: 'qcow2', readOnly: false });
}

function qemuFormatName(format: ImageFormat): string {
  return format === 'vhd' ? 'vpc' : format;
}

/** The parent as the child should name it: relative to the child's folder, with Windows separators (VHD locators are Windows paths). */
function relativeParentName(child: string, parent: string): string {
  const rel = nodePath.relative(nodePath.dirname(nodePath.resolve(child)), nodePath.resolve(parent));
  return rel.split(nodePath.sep).join('\\');
}

