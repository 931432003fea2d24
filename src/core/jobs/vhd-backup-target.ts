/**
 * Backup targets in VHD form: a full backup into a new dynamic VHD, and an incremental backup
 * into a new differencing VHD whose parent is the previous backup (full or incremental), so a
 * chain of backups opens as one image in Disk Lab, QEMU or Hyper-V. Both are VhdDynamicDisks over
 * images made by createVhdDynamic; the incremental one's unwritten sectors read as zero here (it
 * is only written) and fall through to the parent when the chain is opened.
 *
 * Errors: those of createVhdDynamic: a parent that is not a VHD is CORRUPT_IMAGE, a size or
 * block size it cannot hold is DiskConfigError; the file's errors (QUOTA, IO) pass through.
 */
import { createVhdDynamic, readAnyVhdFooter } from '../formats/vhd/create-dynamic.ts';
import { VhdDynamicDisk } from '../formats/vhd/dynamic-disk.ts';
import type { ImageFile } from '../formats/image-file.ts';

export interface VhdTargetOptions {
  /** VHD block size in bytes (default 2 MiB). Smaller blocks make small increments smaller. */
  readonly blockSize?: number;
}

/** A new, empty dynamic VHD of `sizeBytes` in `file`, as a Disk to back up into. */
export async function createFullVhdTarget(file: ImageFile, sizeBytes: number, options: VhdTargetOptions = {}): Promise<VhdDynamicDisk> {
  return new VhdDynamicDisk(await createVhdDynamic(file, sizeBytes, { blockSize: options.blockSize }));
}

/** A new differencing VHD in `file` over the previous backup `parent`, as a Disk to write the changed blocks into. */
export async function createIncrementalVhdTarget(
  file: ImageFile,
  parent: { readonly file: ImageFile; readonly name: string },
  options: VhdTargetOptions = {},
): Promise<VhdDynamicDisk> {
  const footer = await readAnyVhdFooter(parent.file);
  return new VhdDynamicDisk(await createVhdDynamic(file, footer.currentSize, { blockSize: options.blockSize, parent }));
}
