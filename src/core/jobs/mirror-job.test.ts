import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileDisk } from '../backends/file-disk.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { RamLayer } from '../layered/ram-layer.ts';
import { CrashSimSyncFile } from '../testing/crash-sim-sync-file.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { liveStack, opArb, readWhole, yieldFor } from '../testing/job-workload.ts';
import { MirrorJob } from './mirror-job.ts';
import { TrackedDisk } from './tracked-disk.ts';

const SECTORS = 2048;
const SS = 512;

async function untilReady(job: MirrorJob): Promise<void> {
  while (job.state !== 'ready') {
    if (['failed', 'cancelled', 'completed'].includes(job.state)) throw job.error ?? new Error(`job ${job.state}`);
    await yieldFor(-1);
  }
}

describe('MirrorJob', () => {
  it('ends bit-identical to the final state while a random workload keeps writing, and switches over', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        fc.array(opArb, { maxLength: 20 }),
        fc.array(opArb, { maxLength: 10 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 1e6 }),
        async (during, whileReady, atSwitch, chunks, seed) => {
          const { tracked, guest } = await liveStack(seed);
          const target = new RamDisk({ sectors: SECTORS });
          const job = new MirrorJob({ source: tracked, target, chunkBytes: chunks * 4096, granuleBytes: 4096 });
          const done = job.start();
          await guest.run(during);
          await untilReady(job);
          await guest.run(whileReady);
          const racing = guest.run(atSwitch); // writes racing the switch-over: held, then sent to the target
          job.complete();
          await done;
          await racing;
          expect(job.state).toBe('completed');
          expect(tracked.current).toBe(target);
          expect(tracked.hookCount).toBe(0);
          expectSameBytes(await readWhole(target), guest.model, 'target after switch-over');
          expectSameBytes(await readWhole(tracked), guest.model, 'the guest view');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('copies only allocated data onto a zeroed target, and everything onto a dirty one', async () => {
    const { tracked, guest } = await liveStack();
    const target = new RamDisk({ sectors: SECTORS });
    await target.write(SECTORS - 8, pattern(8 * SS, 3)); // stale data where the source reads zero
    const job = new MirrorJob({ source: tracked, target, targetIsZero: false, switchOver: false });
    const done = job.start();
    await untilReady(job);
    expect(job.progress().bytesTotal).toBe(SECTORS * SS);
    job.complete();
    await done;
    expect(tracked.current).not.toBe(target);
    expectSameBytes(await readWhole(target), guest.model);
    // A stack of sparse layers: only what the layers hold is copied.
    const base = new RamLayer({ sectors: SECTORS });
    await base.write(100, pattern(50 * SS, 4));
    const top = new RamLayer({ sectors: SECTORS });
    await top.write(1000, pattern(30 * SS, 5));
    await top.unmap(110, 10, false);
    const sparse = { tracked: new TrackedDisk(openDisk(new LayeredDisk([{ layer: top }, { layer: base }]))) };
    const job2 = new MirrorJob({ source: sparse.tracked, target: new RamDisk({ sectors: SECTORS }), granuleBytes: 512 });
    const done2 = job2.start();
    await untilReady(job2);
    expect(job2.progress().bytesTotal).toBe(70 * SS);
    job2.cancel();
    await expectDiskError(done2, 'ABORTED');
    expect(sparse.tracked.hookCount).toBe(0);
  });

  it('fails with QUOTA when the target runs out of room, leaving the source unchanged and writable', async () => {
    const { tracked, guest } = await liveStack();
    const file = new CrashSimSyncFile();
    file.quotaBytes = 300 * 1024;
    const target = new FileDisk(file, { sectors: SECTORS });
    const job = new MirrorJob({ source: tracked, target, chunkBytes: 64 * 1024 });
    const done = job.start();
    const workload = guest.run(Array.from({ length: 30 }, (_, i) => ({ kind: 'write' as const, at: i / 30, sectors: 16, seed: i + 1, pause: 2 })));
    await expectDiskError(done, 'QUOTA');
    await workload;
    expect(job.state).toBe('failed');
    expect(tracked.hookCount).toBe(0);
    expect(tracked.current).not.toBe(target);
    await guest.apply({ kind: 'write', at: 0.5, sectors: 4, seed: 77, pause: 0 });
    expectSameBytes(await readWhole(tracked), guest.model);
  });

  it('refuses a target of another size or a read-only one before touching anything', async () => {
    const { tracked } = await liveStack();
    await expectDiskError(new MirrorJob({ source: tracked, target: new RamDisk({ sectors: SECTORS + 1 }) }).start(), 'INVALID_INPUT');
    await expectDiskError(new MirrorJob({ source: tracked, target: new RamDisk({ sectors: SECTORS, readOnly: true }) }).start(), 'READ_ONLY');
    expect(tracked.hookCount).toBe(0);
  });
});
