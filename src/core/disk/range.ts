/**
 * Range checks shared by every backend, so all of them reject the same requests with the same
 * words. Exactness (integers below 2^53) is `openDisk`'s job; these only compare against the size.
 */
import { DiskError } from './errors.ts';

/** Rejects unless [lba, lba + count) lies within a disk of `sectorCount` sectors. */
export function checkRange(op: string, lba: number, count: number, sectorCount: number): void {
  if (lba < 0 || count < 0 || lba + count > sectorCount) {
    throw new DiskError(
      'OUT_OF_RANGE',
      `${op} of ${count} sector(s) at LBA ${lba} is beyond the end of a disk of ${sectorCount} sectors`,
      { lba },
    );
  }
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 30;
}
