/**
 * Opens a SyncFile as a disk of a named image format. raw and VHD open here; VHDX and qcow2 are
 * recognised by `detectFormat` but rejected with `UNSUPPORTED` until their readers land.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import type { SyncFile } from '../ports/sync-file.ts';
import type { ImageFormat } from './detect.ts';
import { openRaw } from './raw.ts';
import { openVhd } from './vhd/open.ts';

export interface FormatOpenOptions {
  readonly readOnly?: boolean;
  readonly name?: string;
}

export function openFormat(file: SyncFile, format: ImageFormat, options: FormatOpenOptions = {}): Disk {
  switch (format) {
    case 'raw':
      return openRaw(file, options);
    case 'vhd':
      return openVhd(file, options);
    case 'vhdx':
    case 'qcow2':
      throw new DiskError('UNSUPPORTED', `${options.name ?? 'image'}: ${format} images are not supported yet`);
  }
}
