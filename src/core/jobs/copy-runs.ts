/**
 * Small copy helpers the jobs share: zero detection, writing only the non-zero blocks of a
 * buffer (so a copy onto a disk that reads as zero stays sparse), and cutting runs into pieces
 * of at most one chunk (so memory is one chunk whatever the disk size).
 *
 * Errors: the target's DiskErrors pass through.
 */
import type { Disk } from '../disk/disk.ts';
import type { SectorRun } from './dirty-bitmap.ts';

/** Granularity of zero detection: a 4 KiB block of zeroes is not written. */
export const ZERO_BLOCK_BYTES = 4096;

export function isAllZero(bytes: Uint8Array): boolean {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes.length >> 2 : 0;
  if (aligned > 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, aligned);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  }
  for (let i = aligned * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Whether bytes [from, to) of `bytes` are all zero; `words` views the same bytes when it is 4-byte aligned. */
function rangeIsZero(bytes: Uint8Array, words: Uint32Array | undefined, from: number, to: number): boolean {
  let i = from;
  if (words && from % 4 === 0) {
    const stop = to >>> 2;
    for (let w = from >>> 2; w < stop; w++) if (words[w] !== 0) return false;
    i = stop << 2;
  }
  for (; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Calls `fn(offset, length)` for each maximal run of non-zero blocks of `chunk` (offsets in bytes). */
export function forEachNonZeroRun(chunk: Uint8Array, blockBytes: number, fn: (offset: number, length: number) => void): void {
  // One word view for the whole chunk rather than a view per block: creating typed-array views
  // cost more than scanning the (usually non-zero at once) blocks themselves.
  const words = chunk.byteOffset % 4 === 0 ? new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length >>> 2) : undefined;
  let start = -1;
  for (let at = 0; at < chunk.length; at += blockBytes) {
    const data = !rangeIsZero(chunk, words, at, Math.min(chunk.length, at + blockBytes));
    if (data && start < 0) start = at;
    if (!data && start >= 0) {
      fn(start, at - start);
      start = -1;
    }
  }
  if (start >= 0) fn(start, chunk.length - start);
}

/** Writes `chunk` at `lba`, skipping all-zero blocks when the target already reads zero there. */
export async function writeChunk(target: Disk, lba: number, chunk: Uint8Array, targetReadsZero: boolean): Promise<void> {
  if (!targetReadsZero) {
    await target.write(lba, chunk);
    return;
  }
  const ss = target.sectorSize;
  const runs: Array<[number, number]> = [];
  forEachNonZeroRun(chunk, Math.max(ZERO_BLOCK_BYTES, ss), (offset, length) => runs.push([offset, length]));
  for (const [offset, length] of runs) await target.write(lba + offset / ss, chunk.subarray(offset, offset + length));
}

/** `runs` cut into pieces of at most `maxSectors`. */
export function* pieces(runs: Iterable<SectorRun>, maxSectors: number): Generator<SectorRun> {
  for (const run of runs) {
    for (let lba = run.lba; lba < run.lba + run.count; lba += maxSectors) {
      yield { lba, count: Math.min(maxSectors, run.lba + run.count - lba) };
    }
  }
}

export function checkSameGeometry(kind: string, source: Disk, target: Disk): string | undefined {
  if (source.sectorSize !== target.sectorSize) return `${kind}: the target's sector size ${target.sectorSize} differs from the source's ${source.sectorSize}`;
  if (source.sectorCount() !== target.sectorCount()) return `${kind}: the target has ${target.sectorCount()} sectors, the source ${source.sectorCount()}`;
  return undefined;
}
