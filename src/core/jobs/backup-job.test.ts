import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskError } from '../disk/errors.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from '../formats/vhd/dynamic-disk.ts';
import { MemoryImageFile } from '../formats/vhd/memory-image-file.ts';
import { VhdSparseImage } from '../formats/vhd/sparse-image.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { expectDiskError, expectSameBytes } from '../testing/disk-conformance.ts';
import { liveStack, opArb, readWhole } from '../testing/job-workload.ts';
import { BackupJob, trackDirty } from './backup-job.ts';
import { DirtyBitmap } from './dirty-bitmap.ts';
import { createFullVhdTarget, createIncrementalVhdTarget } from './vhd-backup-target.ts';

const SECTORS = 2048;
const SS = 512;

/** A disk that fails writes with `code` once `budget` sectors have been written. */
class FailingDisk extends RamDisk {
  budget: number;
  readonly code: 'QUOTA' | 'IO';
  constructor(sectors: number, budget: number, code: 'QUOTA' | 'IO' = 'QUOTA') {
    super({ sectors });
    this.budget = budget;
    this.code = code;
  }
  override async write(lba: number, data: Uint8Array): Promise<void> {
    this.budget -= data.length / SS;
    if (this.budget < 0) throw new DiskError(this.code, 'injected: out of room');
    await super.write(lba, data);
  }
}

describe('BackupJob', () => {
  it('copies the point-in-time state while a random workload keeps writing (copy-before-write)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 30 }),
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(512, 4096, 16384),
        fc.integer({ min: 1, max: 1e6 }),
        async (before, during, chunks, granuleBytes, seed) => {
          const { tracked, guest } = await liveStack(seed);
          await guest.run(before);
          const target = new RamDisk({ sectors: SECTORS });
          const job = new BackupJob({ source: tracked, target, chunkBytes: chunks * 8192, granuleBytes });
          const pointInTime = guest.snapshot();
          const done = job.start();
          await Promise.all([guest.run(during), done]);
          expect(job.state).toBe('completed');
          expect(tracked.hookCount).toBe(0);
          expectSameBytes(await readWhole(target), pointInTime, 'backup');
          expectSameBytes(await readWhole(tracked), guest.model, 'the live disk');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('exports increments as a chain of differencing VHDs that reads as each point in time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 20 }),
        fc.array(opArb, { maxLength: 20 }),
        fc.array(opArb, { minLength: 1, maxLength: 20 }),
        fc.array(opArb, { maxLength: 20 }),
        fc.integer({ min: 1, max: 1e6 }),
        async (beforeFull, duringFull, beforeIncrement, duringIncrement, seed) => {
          const { tracked, guest } = await liveStack(seed);
          const bitmap = new DirtyBitmap(SECTORS, 16);
          const untrack = trackDirty(tracked, bitmap);
          await guest.run(beforeFull);
          const fullFile = new MemoryImageFile('full.vhd');
          const full = await createFullVhdTarget(fullFile, SECTORS * SS, { blockSize: 64 * 1024 });
          const fullJob = new BackupJob({ source: tracked, target: full, bitmap, chunkBytes: 32 * 1024 });
          const atFull = guest.snapshot();
          const fullDone = fullJob.start(); // the point in time: before the next write is issued
          await Promise.all([guest.run(duringFull), fullDone]);
          await guest.run(beforeIncrement);
          const incFile = new MemoryImageFile('inc1.vhd');
          const inc = await createIncrementalVhdTarget(incFile, { file: fullFile, name: 'full.vhd' }, { blockSize: 4096 });
          const incJob = new BackupJob({ source: tracked, target: inc, bitmap, mode: 'incremental', chunkBytes: 32 * 1024 });
          const atIncrement = guest.snapshot();
          const changed = bitmap.dirtySectors();
          const incDone = incJob.start();
          await Promise.all([guest.run(duringIncrement), incDone]);
          untrack();
          expect(incJob.kind).toBe('incremental-backup');
          expect(incJob.progress().bytesTotal).toBe(changed * SS);
          const fullImage = await VhdSparseImage.open(fullFile, { readOnly: true });
          expectSameBytes(await readWhole(new VhdDynamicDisk(fullImage)), atFull, 'full backup');
          const incImage = await VhdSparseImage.open(incFile, { readOnly: true });
          expect(incImage.bytesPresent()).toBeLessThanOrEqual(changed * SS);
          const chain = new LayeredDisk([{ layer: new VhdDifferencingLayer(incImage) }, { layer: new DiskLayer(new VhdDynamicDisk(fullImage)) }]);
          expectSameBytes(await readWhole(chain), atIncrement, 'full + increment');
        },
      ),
      { numRuns: 25 },
    );
  });

  it('gives a failed increment’s granules back to the bitmap, and never fails the guest’s writes', async () => {
    const { tracked, guest } = await liveStack();
    const bitmap = new DirtyBitmap(SECTORS, 16);
    trackDirty(tracked, bitmap);
    await guest.run(Array.from({ length: 40 }, (_, i) => ({ kind: 'write' as const, at: i / 40, sectors: 8, seed: i + 1, pause: 0 })));
    const dirtyBefore = bitmap.runs();
    const job = new BackupJob({ source: tracked, target: new FailingDisk(SECTORS, 100), bitmap, mode: 'incremental', chunkBytes: 8192 });
    const done = job.start();
    await guest.run(Array.from({ length: 20 }, (_, i) => ({ kind: 'write' as const, at: i / 20, sectors: 3, seed: 100 + i, pause: 1 })));
    await expectDiskError(done, 'QUOTA');
    expect(tracked.hookCount).toBe(1); // only trackDirty's
    const after = new DirtyBitmap(SECTORS, 16);
    for (const r of bitmap.runs()) after.mark(r.lba, r.count);
    for (const r of dirtyBefore) expect(after.runs(r.lba, r.count)).toEqual([r]);
    expectSameBytes(await readWhole(tracked), guest.model);
  });

  it('needs a bitmap for an incremental backup, and a writable target of the same size', async () => {
    const { tracked } = await liveStack();
    await expectDiskError(new BackupJob({ source: tracked, target: new RamDisk({ sectors: SECTORS }), mode: 'incremental' }).start(), 'INVALID_INPUT');
    await expectDiskError(new BackupJob({ source: tracked, target: new RamDisk({ sectors: 10 }) }).start(), 'INVALID_INPUT');
    expect(tracked.hookCount).toBe(0);
  });
});
