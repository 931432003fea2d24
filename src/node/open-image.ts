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
import type { Disk } from '../core/disk/disk.ts';
import { DiskConfigError } from '../core/disk/errors.ts';
import { openDisk } from '../core/disk/open-disk.ts';
import { detectFormat, IMAGE_FORMATS, type ImageFormat } from '../core/formats/detect.ts';
import { openFormat } from '../core/formats/open-format.ts';
import { VhdFixedDisk } from '../core/formats/vhd/fixed.ts';
import type { VhdFooter } from '../core/formats/vhd/footer.ts';
import { NodeSyncFile } from './node-sync-file.ts';

export interface OpenedImage {
  readonly path: string;
  readonly format: ImageFormat;
  /** True when the format came from the content rather than the caller. */
  readonly detected: boolean;
  readonly disk: Disk;
  /** The footer of a VHD, for `info`. */
  readonly vhdFooter: VhdFooter | undefined;
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
  const readOnly = options.readOnly ?? true;
  const named = options.format === undefined ? undefined : parseFormatName(options.format);
  const file = new NodeSyncFile(path, { readOnly });
  try {
    const format = named ?? detectFormat(file, path).format;
    const inner = openFormat(file, format, { readOnly, name: path });
    const vhdFooter = inner instanceof VhdFixedDisk ? inner.footer : undefined;
    return { path, format, detected: named === undefined, disk: openDisk(inner), vhdFooter };
  } catch (e) {
    file.close();
    throw e;
  }
}

export interface CreateImageOptions {
  /** For VHD: 'fixed' (default) or 'dynamic' (not supported yet). */
  readonly subformat?: string;
}

/** Creatable formats and their subformats. */
export const CREATE_FORMATS: Readonly<Record<string, readonly string[]>> = { raw: [], vhd: ['fixed', 'dynamic'] };

/**
 * Creates a new zeroed image of `sizeBytes` (a multiple of 512) at `path`, which must not exist,
 * and opens it writable.
 */
export function createImage(path: string, format: ImageFormat, sizeBytes: number, options: CreateImageOptions = {}): OpenedImage {
  checkCreatable(format, options);
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
    throw new DiskConfigError('UNSUPPORTED_FORMAT', 'format', `creating ${format} images is not supported (can create: raw, vhd)`, { value: format });
  }
  const sub = options.subformat;
  if (sub === undefined) return;
  if (!subformats.includes(sub)) {
    const known = subformats.length === 0 ? `${format} has no subformats` : `known: ${subformats.join(', ')}`;
    throw new DiskConfigError('INVALID_PARAMETER', 'subformat', `unknown subformat '${sub}' for ${format} (${known})`, { value: sub });
  }
  if (format === 'vhd' && sub !== 'fixed') {
    throw new DiskConfigError('UNSUPPORTED_FORMAT', 'subformat', `VHD subformat '${sub}' is not supported yet (only fixed)`, { value: sub });
  }
}

