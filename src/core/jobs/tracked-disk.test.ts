import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { readWhole, yieldFor } from '../testing/job-workload.ts';
import { TrackedDisk } from './tracked-disk.ts';

describeDiskConformance({
  name: 'TrackedDisk over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) => new TrackedDisk(new RamDisk({ sectorSize, sectors, readOnly })),
});

describe('TrackedDisk', () => {
  it('runs before-hooks ahead of the write and after-hooks once it landed, even when it fails', async () => {
    const disk = new TrackedDisk(new RamDisk({ sectors: 64 }));
    const log: string[] = [];
    const remove = disk.addHook({
      before: async (lba, count) => {
        if (log.length === 0) expectSameBytes(await readWhole(disk), new Uint8Array(64 * 512), 'not yet written');
        log.push(`before ${lba}+${count}`);
      },
      after: (lba, count) => log.push(`after ${lba}+${count}`),
    });
    await disk.write(3, pattern(1024, 1));
    await expectDiskError(disk.write(63, pattern(1024, 2)), 'OUT_OF_RANGE');
    await disk.unmap(0, 4);
    expect(log).toEqual(['before 3+2', 'after 3+2', 'before 63+2', 'after 63+2', 'before 0+4', 'after 0+4']);
    await expectDiskError(disk.resize!(10), 'UNSUPPORTED');
    remove();
    expect(disk.hookCount).toBe(0);
    await disk.resize!(128);
    expect(disk.sectorCount()).toBe(128);
  });

  it('holds writes while quiesced, waits for those in flight, and switches over', async () => {
    const first = new RamDisk({ sectors: 16 });
    const second = new RamDisk({ sectors: 16 });
    const disk = new TrackedDisk(first);
    let unblock!: () => void;
    const blocker = new Promise<void>((resolve) => (unblock = resolve));
    const remove = disk.addHook({ before: () => blocker });
    const inFlight = disk.write(0, pattern(512, 1));
    let quiesced = false;
    const q = disk.quiesce().then((release) => {
      quiesced = true;
      return release;
    });
    await yieldFor(-1);
    expect(quiesced).toBe(false); // the write in flight is awaited
    unblock();
    await inFlight;
    const release = await q;
    remove();
    let held = true;
    const late = disk.write(1, pattern(512, 2)).then(() => (held = false));
    await yieldFor(-1);
    expect(held).toBe(true);
    disk.switchTo(second);
    expect(() => disk.switchTo(new RamDisk({ sectors: 17 }))).toThrow(/differs/);
    release();
    await late;
    const buf = new Uint8Array(512);
    await second.read(1, buf);
    expectSameBytes(buf, pattern(512, 2));
    await first.read(1, buf);
    expectSameBytes(buf, new Uint8Array(512));
  });
});
