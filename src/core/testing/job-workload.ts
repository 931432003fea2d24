/**
 * Helpers for block-job tests: a guest-like random write/unmap workload that keeps a byte model
 * of what the disk must read, and ways to read a whole disk or layer for comparison.
 *
 * The workload issues one operation at a time (awaiting each), and between operations yields a
 * random number of microtasks or a macrotask turn, so a job running beside it interleaves at
 * every await, as a guest and a job do in the disk worker. The model is updated when each
 * operation is issued; since operations do not overlap in time, it is exact between operations.
 */
import fc from 'fast-check';
import { RamDisk } from '../backends/ram-disk.ts';
import { ForwardingDisk } from '../decorators/forwarding-disk.ts';
import type { Disk, WriteOptions } from '../disk/disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import { TrackedDisk } from '../jobs/tracked-disk.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { RamLayer } from '../layered/ram-layer.ts';
import { pattern } from './disk-conformance.ts';
import { seededRandom } from './seeded-random.ts';

const SECTORS = 2048;
const SS = 512;


export interface WorkloadOp {
  readonly kind: 'write' | 'unmap';
  /** Position and length as fractions, scaled to the disk when run. */
  readonly at: number;
  readonly sectors: number;
  readonly seed: number;
  /** Microtasks to yield after the operation (0..), or -1 for a macrotask turn. */
  readonly pause: number;
}

export class ModelledDisk {
  readonly disk: Disk;
  readonly model: Uint8Array;
  ops = 0;

  /** `disk` must currently read as `initial` (default: all zero). */
  constructor(disk: Disk, initial?: Uint8Array) {
    this.disk = disk;
    this.model = initial ? initial.slice() : new Uint8Array(disk.sectorCount() * disk.sectorSize);
  }

  async apply(op: WorkloadOp): Promise<void> {
    const ss = this.disk.sectorSize;
    const total = this.disk.sectorCount();
    const lba = Math.min(total - 1, Math.floor(op.at * total));
    const n = Math.max(1, Math.min(total - lba, op.sectors));
    if (op.kind === 'write') {
      const data = pattern(n * ss, op.seed);
      this.model.set(data, lba * ss);
      await this.disk.write(lba, data);
    } else {
      if (this.disk.unmapBehavior !== 'zeroes') throw new Error('the workload models unmap as zeroing');
      this.model.fill(0, lba * ss, (lba + n) * ss);
      await this.disk.unmap(lba, n);
    }
    this.ops++;
    await yieldFor(op.pause);
  }

  async run(ops: readonly WorkloadOp[]): Promise<void> {
    for (const op of ops) await this.apply(op);
  }

  snapshot(): Uint8Array {
    return this.model.slice();
  }
}

export async function yieldFor(pause: number): Promise<void> {
  if (pause < 0) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    return;
  }
  for (let i = 0; i < pause; i++) await Promise.resolve();
}

export async function readWhole(disk: Disk): Promise<Uint8Array> {
  const buf = new Uint8Array(disk.sectorCount() * disk.sectorSize);
  await disk.read(0, buf);
  return buf;
}

/** A deterministic op list from a seeded generator, for tests that do not use fast-check. */
export function randomOps(random: () => number, count: number, maxSectors = 64, unmapShare = 0.15): WorkloadOp[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: random() < unmapShare ? ('unmap' as const) : ('write' as const),
    at: random(),
    sectors: 1 + Math.floor(random() * maxSectors),
    seed: 1 + i + Math.floor(random() * 1e6),
    pause: random() < 0.1 ? -1 : Math.floor(random() * 6),
  }));
}

/** Random workload operations for fast-check. */
export const opArb: fc.Arbitrary<WorkloadOp> = fc.record({
  kind: fc.constantFrom<'write' | 'unmap'>('write', 'write', 'write', 'unmap'),
  at: fc.integer({ min: 0, max: 9999 }).map((x) => x / 10000),
  sectors: fc.integer({ min: 1, max: 64 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  pause: fc.integer({ min: -1, max: 5 }),
});

/**
 * Delays each read, write and unmap by a random number of microtasks before it reaches the inner
 * disk, so that in-memory disks (which act at once) still race the way real I/O does.
 */
export class JitterDisk extends ForwardingDisk {
  readonly #random: () => number;
  constructor(inner: Disk, seed: number) {
    super(inner);
    this.#random = seededRandom(seed);
  }
  override async read(lba: number, buf: Uint8Array): Promise<void> {
    await yieldFor(Math.floor(this.#random() * 8));
    await this.inner.read(lba, buf);
  }
  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    await yieldFor(Math.floor(this.#random() * 8));
    await this.inner.write(lba, data, options);
  }
  override async unmap(lba: number, count: number): Promise<void> {
    await yieldFor(Math.floor(this.#random() * 8));
    await this.inner.unmap(lba, count);
  }
}

/**
 * A live stack: a RAM overlay over a base holding data in its first half, seen through a
 * JitterDisk (when `seed` is given) and tracked; with a model of its contents.
 */
export async function liveStack(seed?: number): Promise<{ tracked: TrackedDisk; guest: ModelledDisk; stack: LayeredDisk }> {
  const base = new RamDisk({ sectors: SECTORS });
  const initial = new Uint8Array(SECTORS * SS);
  initial.set(pattern((SECTORS / 2) * SS, 99));
  await base.write(0, initial.subarray(0, (SECTORS / 2) * SS));
  const stack = new LayeredDisk([{ layer: new RamLayer({ sectors: SECTORS, chunkBytes: 4096 }) }, { layer: new DiskLayer(base) }]);
  const tracked = new TrackedDisk(seed === undefined ? openDisk(stack) : new JitterDisk(openDisk(stack), seed));
  return { tracked, guest: new ModelledDisk(tracked, initial), stack };
}
