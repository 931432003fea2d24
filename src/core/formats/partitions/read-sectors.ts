/**
 * Reads whole sectors for the partition parsers, turning every failure into a warning.
 * Returns undefined (and records why) when the range is outside the disk or the read fails;
 * only ABORTED is rethrown. Callers bound `count` before calling; this checks it again.
 */
import type { Disk } from '../../disk/disk.ts';
import { isDiskError } from '../../disk/errors.ts';

/** Largest single read the parsers make: a 1 MiB GPT entry array plus one sector of rounding. */
export const MAX_TABLE_BYTES = 1024 * 1024;

export async function readSectors(disk: Disk, lba: number, count: number, warnings: string[], what: string): Promise<Uint8Array | undefined> {
  const total = disk.sectorCount();
  if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(count) || lba < 0 || count < 1 || lba >= total || count > total - lba) {
    warnings.push(`${what} at LBA ${lba} (${count} sectors) is outside the disk (${total} sectors)`);
    return undefined;
  }
  if (count * disk.sectorSize > MAX_TABLE_BYTES + disk.sectorSize) {
    warnings.push(`${what} at LBA ${lba} is too large to read (${count} sectors)`);
    return undefined;
  }
  const buf = new Uint8Array(count * disk.sectorSize);
  try {
    await disk.read(lba, buf);
  } catch (e) {
    if (isDiskError(e, 'ABORTED')) throw e;
    warnings.push(`${what}: cannot read LBA ${lba}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  return buf;
}

export function u32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

/** A little-endian u64 as a number, or undefined if it is above 2^53 - 1. */
export function u64(b: Uint8Array, at: number): number | undefined {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  if (hi > 0x1fffff) return undefined;
  return hi * 0x100000000 + lo;
}
