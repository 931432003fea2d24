/**
 * Raw images: the file is the disk, sector n at byte n * 512. A file whose size is not a whole
 * number of sectors exposes the partial last sector too (rounded up, as QEMU does), reading the
 * missing tail as zeroes; writing that sector extends the file to a whole sector. Resize truncates
 * or extends the file. Errors are FileDisk's.
 */
import { FileDisk, type FileDiskOptions } from '../backends/file-disk.ts';
import type { SyncFile } from '../ports/sync-file.ts';

export class RawDisk extends FileDisk {
  override readonly diskType: string = 'raw';
}

export interface RawOpenOptions {
  readonly readOnly?: boolean;
  readonly name?: string;
}

export const RAW_SECTOR_SIZE = 512;

export function openRaw(file: SyncFile, options: RawOpenOptions = {}): RawDisk {
  const opts: FileDiskOptions = {
    sectorSize: RAW_SECTOR_SIZE,
    sectors: Math.ceil(file.size() / RAW_SECTOR_SIZE),
    readOnly: options.readOnly ?? false,
    name: options.name ?? 'raw',
  };
  return new RawDisk(file, opts);
}
