/**
 * `DescribesMap`: an optional capability a Disk may offer so the shell's `map` and `alloc`
 * commands can show which ranges the disk holds itself, like qemu-io's map over a qcow2 or a
 * differencing image. A disk without it is shown as one allocated range (qemu shows a raw image
 * the same way).
 *
 * Contract for implementers: `describeMap(lba, count)` resolves with the *allocated* runs within
 * [lba, lba + count), in ascending LBA order, non-overlapping, clipped to the range; everything
 * not listed is "not allocated". "Allocated" means what qemu means: this disk (for a layered
 * stack: its top layer) answers for those sectors itself, with data or with recorded zeroes,
 * rather than passing them through to what lies below or reading them as never written.
 * A LayeredDisk can implement it as `presence(0, lba, count)`: its PresenceRun is a MapRun.
 * Errors: reject with a DiskError; the shell prints it as "map failed: <message>".
 *
 * `allocationExtents` checks what a disk returned (a bad answer becomes an IO DiskError naming
 * the fault, so a buggy implementation shows up in the shell rather than as a wrong picture)
 * and turns it into the alternating allocated / not-allocated extents that qemu-io prints.
 */
import { DiskError } from '../disk/errors.ts';

export interface MapRun {
  readonly lba: number;
  readonly count: number;
}

export interface DescribesMap {
  describeMap(lba: number, count: number): Promise<readonly MapRun[]>;
}

export interface MapExtent {
  readonly lba: number;
  readonly count: number;
  readonly allocated: boolean;
}

export function describesMap(disk: unknown): disk is DescribesMap {
  return typeof disk === 'object' && disk !== null && typeof (disk as Partial<DescribesMap>).describeMap === 'function';
}

/** Validates `runs` against [lba, lba + count) and fills the gaps, merging touching runs. */
export function allocationExtents(runs: readonly MapRun[], lba: number, count: number): MapExtent[] {
  const out: MapExtent[] = [];
  const push = (start: number, n: number, allocated: boolean) => {
    if (n <= 0) return;
    const last = out[out.length - 1];
    if (last && last.allocated === allocated) out[out.length - 1] = { lba: last.lba, count: last.count + n, allocated };
    else out.push({ lba: start, count: n, allocated });
  };
  let at = lba;
  const end = lba + count;
  for (const [i, run] of runs.entries()) {
    const bad = (why: string): never => {
      throw new DiskError('IO', `describeMap returned an invalid run #${i} (LBA ${run.lba}, ${run.count} sectors): ${why}`);
    };
    if (!Number.isSafeInteger(run.lba) || !Number.isSafeInteger(run.count) || run.count < 0) bad('not whole numbers');
    if (run.lba < at) bad(at === lba ? `starts before the range at LBA ${lba}` : 'overlaps or precedes the run before it');
    if (run.lba + run.count > end) bad(`ends past the range end at LBA ${end}`);
    push(at, run.lba - at, false);
    push(run.lba, run.count, true);
    at = run.lba + run.count;
  }
  push(at, end - at, false);
  return out;
}
