/**
 * Copies one disk's contents onto another of the same size, in bounded chunks: memory use is one
 * chunk, whatever the image size. The target must read as zeroes beforehand (a freshly created
 * image): all-zero blocks are skipped, so a sparse source stays sparse, as with qemu-img convert.
 */
import type { Disk } from '../core/disk/disk.ts';
import { DiskError } from '../core/disk/errors.ts';

export const DEFAULT_CHUNK_BYTES = 2 * 1024 * 1024;
/** Granularity of zero detection: a 4 KiB block of zeroes is not written. */
const ZERO_BLOCK = 4096;

export interface CopyOptions {
  readonly chunkBytes?: number;
  /** Called after each chunk with bytes done and total. May throw to abort the copy. */
  readonly onProgress?: (done: number, total: number) => void;
}

export async function copyDisk(source: Disk, target: Disk, options: CopyOptions = {}): Promise<void> {
  const sectorSize = source.sectorSize;
  if (target.sectorSize !== sectorSize || target.sectorCount() !== source.sectorCount()) {
    throw new DiskError('INVALID_INPUT', 'copy: source and target differ in size or sector size');
  }
  const total = source.sectorCount();
  const chunkSectors = Math.max(1, Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / sectorSize));
  const buf = new Uint8Array(chunkSectors * sectorSize);
  for (let lba = 0; lba < total; lba += chunkSectors) {
    const n = Math.min(chunkSectors, total - lba);
    const chunk = buf.subarray(0, n * sectorSize);
    await source.read(lba, chunk);
    await writeNonZero(target, lba, chunk);
    options.onProgress?.((lba + n) * sectorSize, total * sectorSize);
  }
  await target.flush();
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
