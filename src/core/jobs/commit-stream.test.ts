import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import type { Layer } from '../layered/layer.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { PersistentLayer } from '../layered/persistent-layer.ts';
import { RamLayer } from '../layered/ram-layer.ts';
import { CrashSimSyncFile } from '../testing/crash-sim-sync-file.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { JitterDisk, ModelledDisk, opArb, readWhole } from '../testing/job-workload.ts';
import { CommitJob } from './commit-job.ts';
import { StreamJob } from './stream-job.ts';
import { TrackedDisk } from './tracked-disk.ts';

const SECTORS = 1024;
const SS = 512;

interface LayerOp {
  readonly layer: number;
  readonly kind: 'write' | 'zero' | 'drop';
  readonly lba: number;
  readonly count: number;
  readonly seed: number;
}

const layerOpArb: fc.Arbitrary<LayerOp> = fc.record({
  layer: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom<'write' | 'zero' | 'drop'>('write', 'write', 'zero', 'drop'),
  lba: fc.integer({ min: 0, max: SECTORS - 1 }),
  count: fc.integer({ min: 1, max: 100 }),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

/** Three layers: a RAM top, a persistent middle, and a sparse RAM base (or a whole disk), filled by `ops`. */
async function stackOf(ops: readonly LayerOp[], wholeBase: boolean, middleFiles = { data: new CrashSimSyncFile(), meta: new CrashSimSyncFile() }) {
  const top = new RamLayer({ sectors: SECTORS, chunkBytes: 4096 });
  const middle = PersistentLayer.create(middleFiles, { sectors: SECTORS, chunkBytes: 4096 });
  const base: Layer = wholeBase ? new DiskLayer(new RamDisk({ sectors: SECTORS })) : new RamLayer({ sectors: SECTORS });
  const layers: Layer[] = [top, middle, base];
  for (const op of ops) {
    const layer = layers[op.layer]!;
    const count = Math.min(op.count, SECTORS - op.lba);
    if (op.kind === 'write') await layer.write(op.lba, pattern(count * SS, op.seed));
    else await layer.unmap(op.lba, count, op.kind === 'drop');
  }
  return { top, middle, base, disk: new LayeredDisk(layers.map((layer) => ({ layer }))) };
}

describe('CommitJob', () => {
  it('keeps the visible contents: the shorter stack reads as the old one did', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layerOpArb, { maxLength: 30 }), fc.boolean(), fc.integer({ min: 1, max: 16 }), async (ops, wholeBase, chunks) => {
        const { top, middle, disk } = await stackOf(ops, wholeBase);
        const before = await readWhole(disk);
        const topBefore = await top.presence(0, SECTORS);
        const job = new CommitJob({ disk, chunkBytes: chunks * 4096 });
        const result = await job.start();
        expect(result.dropped).toBe(top);
        expect(result.disk.layerInfo().map((l) => l.layer)).toEqual([middle, disk.layerInfo()[2]!.layer]);
        expectSameBytes(await readWhole(result.disk), before, 'after commit');
        expectSameBytes(await readWhole(disk), before, 'the old stack');
        expect(await top.presence(0, SECTORS)).toEqual(topBefore);
        expect(job.progress().bytesTotal).toBe(topBefore.reduce((n, r) => n + r.count, 0) * SS);
      }),
      { numRuns: 80 },
    );
  });

  it('commits live while a workload writes, then switches the guest to the shorter stack', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layerOpArb, { maxLength: 20 }), fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 1e6 }), async (ops, during, seed) => {
        const { disk } = await stackOf(ops, false);
        const tracked = new TrackedDisk(new JitterDisk(openDisk(disk), seed));
        const guest = new ModelledDisk(tracked, await readWhole(disk));
        const job = new CommitJob({ disk, live: tracked, chunkBytes: 8192, granuleBytes: 4096 });
        const done = job.start();
        await Promise.all([guest.run(during), done]);
        const result = await done;
        expect(tracked.hookCount).toBe(0);
        expect(tracked.current).not.toBe(disk);
        expectSameBytes(await readWhole(result.disk), guest.model, 'the shorter stack');
        expectSameBytes(await readWhole(tracked), guest.model, 'the guest view');
      }),
      { numRuns: 50 },
    );
  });

  it('fails with QUOTA when the layer below runs out of room, leaving the disk reading as before', async () => {
    const files = { data: new CrashSimSyncFile(), meta: new CrashSimSyncFile() };
    const { top, disk } = await stackOf([], false, files);
    await top.write(0, pattern(600 * SS, 1));
    await top.unmap(100, 10, false);
    const before = await readWhole(disk);
    files.data.quotaBytes = 64 * 1024;
    const job = new CommitJob({ disk, chunkBytes: 16 * 1024 });
    await expectDiskError(job.start(), 'QUOTA');
    expect(job.state).toBe('failed');
    expectSameBytes(await readWhole(disk), before);
    expect(top.bytesPresent()).toBe(590 * SS);
  });

  it('refuses a stack of one layer and a read-only layer below', async () => {
    await expectDiskError(new CommitJob({ disk: new LayeredDisk([{ layer: new RamLayer({ sectors: 8 }) }]) }).start(), 'INVALID_INPUT');
    const ro = new LayeredDisk([{ layer: new RamLayer({ sectors: 8 }) }, { layer: new RamLayer({ sectors: 8, readOnly: true }) }]);
    await expectDiskError(new CommitJob({ disk: ro }).start(), 'READ_ONLY');
  });
});

describe('StreamJob', () => {
  it('pulls the lower layers’ data into the top, which then reads alone as the stack did', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layerOpArb, { maxLength: 30 }), fc.boolean(), fc.integer({ min: 1, max: 16 }), async (ops, wholeBase, chunks) => {
        const { disk, top } = await stackOf(ops, wholeBase);
        const before = await readWhole(disk);
        const result = await new StreamJob({ disk, chunkBytes: chunks * 4096 }).start();
        expect(result.disk.layerInfo().map((l) => l.layer)).toEqual([top]);
        expectSameBytes(await readWhole(result.disk), before, 'the top alone');
        expectSameBytes(await readWhole(disk), before, 'the old stack');
      }),
      { numRuns: 80 },
    );
  });

  it('lets racing guest writes win over the data it copies up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layerOpArb, { maxLength: 20 }), fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 1e6 }), async (ops, during, seed) => {
        const { disk } = await stackOf(ops, true);
        const guest = new ModelledDisk(new JitterDisk(openDisk(disk), seed), await readWhole(disk));
        const job = new StreamJob({ disk, chunkBytes: 4096 });
        const done = job.start();
        await Promise.all([guest.run(during), done]);
        const result = await done;
        expectSameBytes(await readWhole(result.disk), guest.model, 'the top alone');
      }),
      { numRuns: 50 },
    );
  });

  it('fails with QUOTA when the top runs out of room, leaving the disk reading as before', async () => {
    const files = { data: new CrashSimSyncFile(), meta: new CrashSimSyncFile() };
    files.data.quotaBytes = 64 * 1024;
    const top = PersistentLayer.create(files, { sectors: SECTORS, chunkBytes: 4096 });
    const base = new RamDisk({ sectors: SECTORS });
    await base.write(0, pattern(SECTORS * SS, 8));
    const disk = new LayeredDisk([{ layer: top }, { layer: new DiskLayer(base) }]);
    await top.write(5, pattern(3 * SS, 9));
    const before = await readWhole(disk);
    const job = new StreamJob({ disk, chunkBytes: 16 * 1024 });
    await expectDiskError(job.start(), 'QUOTA');
    expectSameBytes(await readWhole(disk), before);
  });

  it('copies nothing where the layers below hold no data', async () => {
    const { disk } = await stackOf([{ layer: 2, kind: 'write', lba: 10, count: 20, seed: 1 }, { layer: 1, kind: 'zero', lba: 15, count: 5, seed: 0 }], false);
    const job = new StreamJob({ disk });
    await job.start();
    expect(job.progress().bytesTotal).toBe(15 * SS);
  });
});
