/**
 * DirtyBitmap: which granules of a disk were written, as QEMU's dirty bitmaps: a granule is
 * `granuleSectors` sectors (a power of two); marking any sector in it marks the whole granule.
 * Mirror converges through one, incremental backup exports one, live commit catches up with one.
 *
 * Stored as intervals of granule indices (an ExtentSet), so a clean or wholly dirty 2^53-byte disk
 * costs one record, and the dirty runs come out already merged. Promises: `mark`, `clear`, `has`
 * work in sectors and round outwards to whole granules; `runs` lists dirty granule runs as sector
 * ranges clipped to the disk; `dirtySectors` counts them. `clone` and `merge` let an incremental
 * backup take a frozen copy and give it back if the backup fails.
 *
 * Errors: construction with a bad size or granule is DiskConfigError; ranges past the end are
 * clipped, since marks come from writes the disk itself has already range-checked.
 */
import { DiskConfigError } from '../disk/errors.ts';
import { isPowerOfTwo } from '../disk/range.ts';
import { ExtentSet } from '../layered/extent-set.ts';

export interface SectorRun {
  readonly lba: number;
  readonly count: number;
}

export class DirtyBitmap {
  readonly sectors: number;
  readonly granuleSectors: number;
  #granules = new ExtentSet();

  constructor(sectors: number, granuleSectors = 128) {
    if (!Number.isSafeInteger(sectors) || sectors < 0) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectors', `dirty bitmap: ${sectors} is not a sector count`, { value: sectors });
    }
    if (!isPowerOfTwo(granuleSectors)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'granuleSectors', `dirty bitmap: granule of ${granuleSectors} sectors is not a power of two`, { value: granuleSectors });
    }
    this.sectors = sectors;
    this.granuleSectors = granuleSectors;
  }

  get granuleCount(): number {
    return Math.ceil(this.sectors / this.granuleSectors);
  }

  get empty(): boolean {
    return this.#granules.size === 0;
  }

  /** Marks every granule touching [lba, lba + count). */
  mark(lba: number, count: number): void {
    const [g0, g1] = this.#granuleRange(lba, count);
    this.#granules.add(g0, g1);
  }

  /** Marks the whole disk. */
  markAll(): void {
    this.#granules.add(0, this.granuleCount);
  }

  /** Clears every granule touching [lba, lba + count). */
  clear(lba: number, count: number): void {
    const [g0, g1] = this.#granuleRange(lba, count);
    this.#granules.remove(g0, g1);
  }

  clearAll(): void {
    this.#granules.clear();
  }

  /** Whether the granule holding sector `lba` is dirty. */
  has(lba: number): boolean {
    return this.#granules.has(Math.floor(lba / this.granuleSectors));
  }

  /** Dirty runs within [lba, lba + count) (default: the whole disk), whole granules clipped to the disk. */
  runs(lba = 0, count = this.sectors - lba): SectorRun[] {
    const [g0, g1] = this.#granuleRange(lba, count);
    return this.#granules.within(g0, g1).map(([s, e]) => this.#toSectors(s, e));
  }

  /** The first dirty run, at most `maxSectors` long (whole granules, at least one), or undefined. */
  first(maxSectors: number): SectorRun | undefined {
    const [first] = this.#granules.within(0, this.granuleCount);
    if (!first) return undefined;
    const granules = Math.max(1, Math.floor(maxSectors / this.granuleSectors));
    return this.#toSectors(first[0], Math.min(first[1], first[0] + granules));
  }

  /** Sectors in dirty granules (clipped to the disk). */
  dirtySectors(): number {
    return this.runs().reduce((n, r) => n + r.count, 0);
  }

  clone(): DirtyBitmap {
    const copy = new DirtyBitmap(this.sectors, this.granuleSectors);
    for (const [s, e] of this.#granules.within(0, this.granuleCount)) copy.#granules.add(s, e);
    return copy;
  }

  /** Marks everything dirty in `other` (same geometry) here too. */
  merge(other: DirtyBitmap): void {
    if (other.granuleSectors !== this.granuleSectors) {
      throw new DiskConfigError('INVALID_PARAMETER', 'granuleSectors', 'dirty bitmap: cannot merge bitmaps of different granules', { value: other.granuleSectors });
    }
    for (const [s, e] of other.#granules.within(0, other.granuleCount)) this.#granules.add(s, e);
  }

  #granuleRange(lba: number, count: number): [number, number] {
    const start = Math.max(0, lba);
    const end = Math.min(this.sectors, lba + count);
    if (end <= start) return [0, 0];
    return [Math.floor(start / this.granuleSectors), Math.ceil(end / this.granuleSectors)];
  }

  #toSectors(g0: number, g1: number): SectorRun {
    const lba = g0 * this.granuleSectors;
    return { lba, count: Math.min(this.sectors, g1 * this.granuleSectors) - lba };
  }
}
