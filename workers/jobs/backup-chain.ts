/**
 * A stack's incremental backup chain in the disk worker: after a full VHD backup the stack keeps
 * writing through a TrackedDisk whose hook marks a DirtyBitmap, so the next incremental backup
 * copies only the granules written since the last backup, into a differencing VHD over it.
 *
 * The chain is only valid while the stack still writes through its TrackedDisk: once an overlay
 * is added or removed (or a commit or stream takes the stack over) writes bypass the bitmap, and
 * `valid` says so; an incremental backup is then refused with INVALID_INPUT ("take a full backup").
 * Nothing is persisted: a reload of the page starts with no chain (a full backup starts one).
 */
import { DirtyBitmap } from '../../src/core/jobs/dirty-bitmap.ts';
import { trackDirty } from '../../src/core/jobs/backup-job.ts';
import type { TrackedDisk } from '../../src/core/jobs/tracked-disk.ts';
import type { LiveStack } from '../stack/live-stack.ts';

/** 64 KiB granules at 512-byte sectors: the unit an increment copies. */
const GRANULE_SECTORS = 128;

export class BackupChain {
  readonly tracked: TrackedDisk;
  readonly bitmap: DirtyBitmap;
  /** The newest backup of the chain (the parent of the next increment). */
  last: { readonly name: string; readonly path: string } | undefined;
  readonly #detach: () => void;

  constructor(tracked: TrackedDisk) {
    this.tracked = tracked;
    const granule = Math.max(1, Math.floor((GRANULE_SECTORS * 512) / tracked.sectorSize));
    this.bitmap = new DirtyBitmap(tracked.sectorCount(), granule);
    this.#detach = trackDirty(tracked, this.bitmap);
  }

  /** The stack still writes through the chain's TrackedDisk, so the bitmap has seen every write. */
  valid(stack: LiveStack): boolean {
    return stack.switchable.target === this.tracked;
  }

  /** Stops tracking; points the stack back at what the TrackedDisk forwarded to if it still uses it. */
  async end(stack: LiveStack | undefined): Promise<void> {
    this.#detach();
    if (stack && stack.switchable.target === this.tracked) await stack.switchable.switchTo(this.tracked.current);
  }
}
