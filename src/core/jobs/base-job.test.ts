import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { readWhole } from '../testing/job-workload.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { CrashSimSyncFile } from '../testing/crash-sim-sync-file.ts';
import { ExportJob, syncFileSink } from './export-job.ts';
import type { JobProgress } from './job.ts';

const KiB = 1024;

async function fullDisk(bytes: number): Promise<RamDisk> {
  const disk = new RamDisk({ sectors: bytes / 512 });
  await disk.write(0, pattern(bytes, 5));
  return disk;
}

/** Advances the manual clock from sleep to sleep until `done` settles. */
async function runOut(clock: ManualClock, done: Promise<unknown>): Promise<void> {
  let settled = false;
  void done.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) await clock.advanceToNext();
}

describe('BaseJob (through ExportJob)', () => {
  it('honours the speed limit on the clock, and reports rate and ETA', async () => {
    const clock = new ManualClock();
    const source = await fullDisk(1024 * KiB);
    const job = new ExportJob({ source, sink: syncFileSink(new CrashSimSyncFile()), clock, chunkBytes: 64 * KiB, speedLimit: 128 * KiB });
    const seen: JobProgress[] = [];
    job.onProgress((p) => {
      seen.push(p);
      // Never ahead of schedule by more than one piece.
      expect(p.bytesDone).toBeLessThanOrEqual((clock.nowNs() / 1e9) * 128 * KiB + 64 * KiB);
    });
    const done = job.start();
    await runOut(clock, done);
    const result = await done;
    expect(result.bytesWritten).toBe(1024 * KiB);
    expect(clock.nowNs()).toBe(8e9);
    const last = job.progress();
    expect(last.state).toBe('completed');
    expect(last.bytesDone).toBe(1024 * KiB);
    expect(last.bytesTotal).toBe(1024 * KiB);
    expect(last.rate).toBeCloseTo(128 * KiB, 0);
    expect(last.etaSeconds).toBe(0);
    const mid = seen.find((p) => p.bytesDone === 512 * KiB)!;
    expect(mid.etaSeconds).toBeGreaterThan(3);
    expect(mid.etaSeconds).toBeLessThan(5);
  });

  it('changes the limit while running, and runs unthrottled without one', async () => {
    const clock = new ManualClock();
    const job = new ExportJob({ source: await fullDisk(512 * KiB), sink: syncFileSink(new CrashSimSyncFile()), clock, chunkBytes: 64 * KiB, speedLimit: 64 * KiB });
    const done = job.start();
    await clock.advanceToNext(); // woke at 1 s; the second piece is done and sleeps until 2 s
    job.setSpeedLimit(undefined); // the sleep under way ends at once, and no later piece waits
    await done;
    expect(clock.nowNs()).toBe(1e9);
    expect(() => job.setSpeedLimit(-1)).toThrow(/speed limit/);
  });

  it('pauses at a piece boundary, excludes paused time from the rate, resumes and completes', async () => {
    const clock = new ManualClock();
    const file = new CrashSimSyncFile();
    const source = await fullDisk(256 * KiB);
    const job = new ExportJob({ source, sink: syncFileSink(file), clock, chunkBytes: 32 * KiB, speedLimit: 32 * KiB });
    const done = job.start();
    await clock.advanceToNext();
    await clock.advanceToNext();
    job.pause();
    await clock.advanceToNext();
    await clock.advance(0);
    expect(job.state).toBe('paused');
    const frozen = job.progress().bytesDone;
    await clock.advance(100e9);
    expect(job.progress().bytesDone).toBe(frozen);
    expect(clock.pendingSleeps).toBe(0);
    job.resume();
    await runOut(clock, done);
    await done;
    expect(job.state).toBe('completed');
    expect(job.progress().rate).toBeGreaterThan(30 * KiB); // the 100 s pause does not count
    expectSameBytes(file.contents(), await readWhole(source));
  });

  it('cancels with ABORTED (also while paused or before start), leaving the source as it was', async () => {
    const clock = new ManualClock();
    const source = await fullDisk(256 * KiB);
    const before = await readWhole(source);
    const job = new ExportJob({ source, sink: syncFileSink(new CrashSimSyncFile()), clock, chunkBytes: 32 * KiB, speedLimit: 32 * KiB });
    const done = job.start();
    await clock.advanceToNext();
    job.pause();
    await clock.advanceToNext();
    job.cancel();
    const error = await expectDiskError(done, 'ABORTED');
    expect(job.state).toBe('cancelled');
    expect(job.error).toBe(error);
    expectSameBytes(await readWhole(source), before);
    const never = new ExportJob({ source, sink: syncFileSink(new CrashSimSyncFile()) });
    never.cancel();
    await expectDiskError(never.start(), 'ABORTED');
    expect(never.state).toBe('cancelled');
  });

  it('ends a long throttle sleep at once on cancel', async () => {
    const clock = new ManualClock();
    const job = new ExportJob({ source: await fullDisk(256 * KiB), sink: syncFileSink(new CrashSimSyncFile()), clock, chunkBytes: 64 * KiB, speedLimit: 1 });
    const done = job.start();
    await clock.advance(0);
    expect(job.progress().bytesDone).toBe(64 * KiB); // and now asleep for 65536 s
    job.cancel();
    await expectDiskError(done, 'ABORTED');
    expect(clock.nowNs()).toBe(0);
  });

  it('fails with the sink’s error code and keeps it', async () => {
    const file = new CrashSimSyncFile();
    file.quotaBytes = 100 * KiB;
    const job = new ExportJob({ source: await fullDisk(256 * KiB), sink: syncFileSink(file), chunkBytes: 32 * KiB });
    await expectDiskError(job.start(), 'QUOTA');
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('QUOTA');
  });
});
