/**
 * An export or convert target in qcow2 form: a new, empty qcow2 v3 image created in an
 * `ImageFile` (an OPFS file in the worker, a file in Node) and opened writable, as a Disk that
 * reads as zero. Paired with export-job.ts `diskSink`, only the clusters that receive non-zero
 * data are allocated, so holes of the source stay holes (unallocated clusters) in the file.
 *
 * The image is laid out as `qemu-img create -f qcow2` lays it out (formats/qcow2/create.ts) and
 * written by the crash-safe qcow2 writer (formats/qcow2/writer.ts); its metadata reaches the file
 * on flush, which `diskSink` does at the end of the job.
 *
 * Errors: createQcow2's DiskConfigError for a size or cluster size it cannot hold; the file's
 * DiskErrors (READ_ONLY, QUOTA, IO) pass through. A fresh image holds no compressed clusters, so
 * with no `inflate` given, an inflate that refuses (UNSUPPORTED) is used: it is never called.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { createQcow2 } from '../formats/qcow2/create.ts';
import { openQcow2 } from '../formats/qcow2/open.ts';
import type { ImageFile } from '../formats/image-file.ts';
import type { Inflate } from '../ports/inflate.ts';

export interface Qcow2TargetOptions {
  /** Cluster size in bytes (default 64 KiB, as qemu-img). */
  readonly clusterSize?: number;
  readonly inflate?: Inflate;
}

const NO_INFLATE: Inflate = {
  inflateRaw: () => Promise.reject(new DiskError('UNSUPPORTED', 'a new qcow2 export target has no compressed clusters to inflate')),
};

/** A new, empty qcow2 image of `sizeBytes` in `file` (which must be empty and writable), opened writable. */
export async function createQcow2Target(file: ImageFile, sizeBytes: number, options: Qcow2TargetOptions = {}): Promise<Disk> {
  await createQcow2(file, sizeBytes, options.clusterSize === undefined ? {} : { clusterSize: options.clusterSize });
  return openQcow2(file, { inflate: options.inflate ?? NO_INFLATE, writable: true });
}
