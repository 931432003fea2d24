/**
 * Copies one disk's contents onto another of the same size, in bounded chunks: memory use is one
 * chunk, whatever the image size. The target must read as zeroes beforehand (a freshly created
 * image): all-zero blocks are skipped, so a sparse source stays sparse, as with qemu-img convert.
 * Given the source's allocation (`dataExtents`, from the format's metadata as `disklab map` reads
 * it), ranges that hold no data are not even read, as qemu-img convert skips them by block status.
 */
import type { Disk } from '../core/disk/disk.ts';
import { DiskError } from '../core/disk/errors.ts';

export const DEFAULT_CHUNK_BYTES = 2 * 1024 * 1024;
/** Granularity of zero detection: a 4 KiB block of zeroes is not written. */
const ZERO_BLOCK = 4096;

/** A byte range of the source and whether it may hold data (false: it reads as zeroes). */
export interface SourceExtent {
  readonly start: number;
  readonly length: number;
  readonly data: boolean;
}

export interface CopyOptions {
  readonly chunkBytes?: number;
  /** Called after each chunk with bytes done and total. May throw to abort the copy. */
  readonly onProgress?: (done: number, total: number) => void;
  /** The source's allocation, covering it in order; ranges without data are skipped unread. */
  readonly dataExtents?: readonly SourceExtent[];
  /**
   * Write every block, zeroes included (no sparseness): for targets where a block never written
   * does not read back as zeroes, such as an encrypted image read by dm-crypt.
   */
  readonly writeZeroes?: boolean;
  /**
   * Chunks whose writes may be in flight at once (default 1). Only for targets that overlap
   * concurrent writes to different ranges (AsyncFileDisk); a format writer that allocates
   * metadata as it goes must take them one at a time.
   */
  readonly writesInFlight?: number;
}

export async function copyDisk(source: Disk, target: Disk, options: CopyOptions = {}): Promise<void> {
  const sectorSize = source.sectorSize;
  if (target.sectorSize !== sectorSize || target.sectorCount() !== source.sectorCount()) {
    throw new DiskError('INVALID_INPUT', 'copy: source and target differ in size or sector size');
  }
  const total = source.sectorCount();
  const chunkSectors = Math.max(1, Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / sectorSize));
  const inFlight = Math.max(1, Math.floor(options.writesInFlight ?? 1));
  // One buffer per write that may be in flight: a buffer is reused only after its write ended.
  const buffers = Array.from({ length: inFlight }, () => new Uint8Array(chunkSectors * sectorSize));
  const pending: Promise<void>[] = [];
  const ranges = options.dataExtents === undefined || options.writeZeroes === true ? [{ lba: 0, count: total }] : dataRanges(options.dataExtents, sectorSize, total);
  let next = 0;
  let reported = 0;
  try {
    for (const range of ranges) {
      const end = range.lba + range.count;
      for (let lba = range.lba; lba < end; lba += chunkSectors) {
        if (pending.length === inFlight) await pending.shift();
        const n = Math.min(chunkSectors, end - lba);
        const chunk = buffers[next++ % inFlight]!.subarray(0, n * sectorSize);
        await source.read(lba, chunk);
        const written = options.writeZeroes === true ? target.write(lba, chunk) : writeNonZero(target, lba, chunk);
        const done = (lba + n) * sectorSize;
        // Writes in flight may end out of order: progress only ever moves forward.
        pending.push(written.then(() => {
          if (done > reported) options.onProgress?.((reported = done), total * sectorSize);
        }));
      }
    }
    while (pending.length > 0) await pending.shift();
  } finally {
    // On a failure, let the writes already started end before the caller closes the target.
    await Promise.allSettled(pending);
  }
  options.onProgress?.(total * sectorSize, total * sectorSize);
  await target.flush();
}

/** The sector ranges of the extents that may hold data, widened to whole sectors and merged. */
function dataRanges(extents: readonly SourceExtent[], sectorSize: number, total: number): { lba: number; count: number }[] {
  const out: { lba: number; count: number }[] = [];
  for (const e of extents) {
    if (!e.data || e.length <= 0) continue;
    const lba = Math.floor(e.start / sectorSize);
    const end = Math.min(total, Math.ceil((e.start + e.length) / sectorSize));
    if (end <= lba) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.lba + last.count >= lba) last.count = Math.max(last.count, end - last.lba);
    else out.push({ lba, count: end - lba });
  }
  return out;
}

/** Writes the runs of `chunk` that are not all-zero blocks, each as one write. */
async function writeNonZero(target: Disk, lba: number, chunk: Uint8Array): Promise<void> {
  const sectorSize = target.sectorSize;
  const block = Math.max(ZERO_BLOCK, sectorSize);
  let runStart = -1;
  for (let at = 0; at < chunk.length; at += block) {
    const data = !isZero(chunk.subarray(at, at + block));
    if (data && runStart < 0) runStart = at;
    if (!data && runStart >= 0) {
      await target.write(lba + runStart / sectorSize, chunk.subarray(runStart, at));
      runStart = -1;
    }
  }
  if (runStart >= 0) await target.write(lba + runStart / sectorSize, chunk.subarray(runStart));
}

export function isZero(bytes: Uint8Array): boolean {
  return firstNonZero(bytes) < 0;
}

/** 32-bit views of the aligned part of each array, so hot loops compare 4 bytes at a time. */
function words(bytes: Uint8Array, count: number): Uint32Array | undefined {
  return bytes.byteOffset % 4 === 0 && count > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, count) : undefined;
}

/** Index of the first byte where a and b differ (the shorter length if one is a prefix of the other), or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let from = 0;
  const wa = words(a, n >> 2);
  const wb = words(b, n >> 2);
  if (wa !== undefined && wb !== undefined) {
    let i = 0;
    while (i < wa.length && wa[i] === wb[i]) i++;
    from = i * 4;
  }
  for (let i = from; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Index of the first non-zero byte, or -1. */
export function firstNonZero(bytes: Uint8Array): number {
  let from = 0;
  const w = words(bytes, bytes.length >> 2);
  if (w !== undefined) {
    let i = 0;
    while (i < w.length && w[i] === 0) i++;
    from = i * 4;
  }
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return i;
  return -1;
}
