/**
 * Where a disk holds data, so jobs skip holes without reading them: an `Allocation` lists, for a
 * range, the runs that may hold non-zero data (anything else certainly reads as zero).
 *
 * - `stackAllocation(disk, from)`: for a LayeredDisk, each sector takes the state of the topmost
 *   layer (index >= `from`) that holds it within that layer's visible size: `data` there means
 *   allocated; `zero`, or no layer at all, means a hole. So a zero record in an upper layer hides
 *   data below it, as reads do.
 * - `allocationOf(disk)`: finds a LayeredDisk under `openDisk` and TrackedDisk (which never change
 *   data; other decorators may: a hole under CryptDisk does not read as zero) and uses its stack;
 *   any other disk is treated as wholly allocated (jobs then still skip all-zero blocks after
 *   reading them).
 *
 * Errors: layers' presence failures pass through as their DiskErrors.
 */
import type { Disk } from '../disk/disk.ts';
import { innerDisk } from '../disk/open-disk.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { TrackedDisk } from './tracked-disk.ts';
import type { SectorRun } from './dirty-bitmap.ts';

export type Allocation = (lba: number, count: number) => Promise<SectorRun[]>;

/** Allocated runs of a stack's layers `from` and below, in disk coordinates. */
export function stackAllocation(disk: LayeredDisk, from = 0): Allocation {
  return async (lba, count) => {
    const end = lba + count;
    // Undecided sub-ranges, refined layer by layer from the top down.
    let open: Array<[number, number]> = count > 0 ? [[lba, end]] : [];
    const data: Array<[number, number]> = [];
    const layers = disk.layerInfo();
    for (let i = from; i < layers.length && open.length > 0; i++) {
      const next: Array<[number, number]> = [];
      for (const [s, e] of open) {
        const visibleEnd = Math.min(e, layers[i]!.visibleSectors);
        let at = s;
        if (visibleEnd > s) {
          for (const run of await disk.presence(i, s, visibleEnd - s)) {
            if (run.lba > at) next.push([at, run.lba]);
            if (run.state === 'data') data.push([run.lba, run.lba + run.count]);
            at = run.lba + run.count;
          }
        }
        if (at < visibleEnd) next.push([at, visibleEnd]);
        // [visibleEnd, e) is past this layer's visible end, and lower layers see no further: a hole.
      }
      open = next;
    }
    data.sort((a, b) => a[0] - b[0]);
    const out: SectorRun[] = [];
    for (const [s, e] of data) {
      const prev = out[out.length - 1];
      if (prev && prev.lba + prev.count === s) out[out.length - 1] = { lba: prev.lba, count: e - prev.lba };
      else out.push({ lba: s, count: e - s });
    }
    return out;
  };
}

/** The stack under `disk` if there is one (through openDisk and TrackedDisk only), else undefined. */
export function layeredUnder(disk: Disk): LayeredDisk | undefined {
  let d = disk;
  for (let depth = 0; depth < 32; depth++) {
    if (d instanceof LayeredDisk) return d;
    const next = d instanceof TrackedDisk ? d.current : innerDisk(d);
    if (next === d) return undefined;
    d = next;
  }
  return undefined;
}

export function allocationOf(disk: Disk): Allocation {
  const stack = layeredUnder(disk);
  if (stack) return stackAllocation(stack);
  return async (lba, count) => (count > 0 ? [{ lba, count }] : []);
}
