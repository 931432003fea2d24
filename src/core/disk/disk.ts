/**
 * The Disk contract: what every backend, format, layered stack and decorator in the lab promises.
 * Modelled on OpenVMM's `DiskIo`.
 *
 * Promises
 * - Metadata: `sectorSize` is a power of two >= 512 and `physicalSectorSize` a power of two >=
 *   `sectorSize`. Both, and every other metadata property, are fixed for the life of the disk,
 *   except `sectorCount()`, which may change after `resize`.
 * - All I/O is in whole logical sectors and asynchronous. `read` fills `buf` entirely (sectors no
 *   one wrote read as zeroes); `write` with `fua` is durable when it resolves if `fuaRespected`;
 *   `flush` makes every write that completed before it durable.
 * - Range: an I/O of n sectors at `lba` is valid iff `lba + n <= sectorCount()`. Anything else is
 *   rejected with `OUT_OF_RANGE` by the disk itself: never clamped, never wrapped. A zero-length
 *   I/O at `lba <= sectorCount()` succeeds and does nothing.
 * - `unmap(lba, count)` is advisory; afterwards the sectors read as `unmapBehavior` says:
 *   `zeroes` (they read as zero), `unspecified` (anything, but stable), or `ignored` (unchanged).
 * - The caller owns `buf`/`data`: a disk never keeps a reference to it after the promise settles,
 *   and never writes into a write's `data`.
 * - Concurrent operations are allowed. Overlapping concurrent writes land in some order; a read
 *   concurrent with a write to the same sectors sees, for each sector, the old or the new data.
 *
 * Errors: every failure rejects with a `DiskError` (see errors.ts). Backends need not check
 * read-only, buffer shape or offset exactness: `openDisk` does that once for the whole stack.
 */
import type { PersistentReservations } from './reservations.ts';

export type UnmapBehavior = 'zeroes' | 'unspecified' | 'ignored';

export interface WriteOptions {
  /** Force unit access: the data is on stable storage when the write resolves. */
  readonly fua?: boolean;
}

export interface DiskMetadata {
  /** What the disk is, for display: 'ram', 'file', 'vhd-fixed', 'layered', 'delay', ... */
  readonly diskType: string;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  /** 16 bytes when the format carries an identity (a VHD's unique id), else undefined. */
  readonly diskId: Uint8Array | undefined;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  /** Preferred unmap granularity in sectors; 1 when there is no preference. */
  readonly optimalUnmapSectors: number;
}

export interface Disk extends DiskMetadata {
  sectorCount(): number;
  read(lba: number, buf: Uint8Array): Promise<void>;
  write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void>;
  flush(): Promise<void>;
  unmap(lba: number, count: number): Promise<void>;
  /** Present only on disks that can change size. Growing exposes zeroed sectors. */
  resize?(sectors: number): Promise<void>;
  /** Present only on disks that implement SCSI-3 persistent reservations. */
  readonly reservations?: PersistentReservations;
  /** Releases the disk's resources. Further I/O is undefined; closing twice is harmless. */
  close(): Promise<void>;
}

/** Largest byte offset a JavaScript number holds exactly; every disk's byte size stays at or below it. */
export const MAX_EXACT_BYTES = Number.MAX_SAFE_INTEGER;

/** The largest sector count a disk of this sector size may report. */
export function maxSectorsFor(sectorSize: number): number {
  return Math.floor(MAX_EXACT_BYTES / sectorSize);
}
