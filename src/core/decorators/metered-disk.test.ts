import { describe, expect, it } from 'vitest';
import { MeteredDisk } from './metered-disk.ts';
import { DelayDisk } from './delay-disk.ts';
import { FaultDisk } from './fault-disk.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeDiskConformance, expectDiskError, pattern } from '../testing/disk-conformance.ts';
import { DiskError } from '../disk/errors.ts';
import { LatencyHistogram } from '../stats/latency-histogram.ts';

describeDiskConformance({
  name: 'MeteredDisk over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) => new MeteredDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 })),
});

describe('MeteredDisk', () => {
  it('records each op type’s latency from the clock, with counts and bytes', async () => {
    const clock = new ManualClock();
    const delayed = new DelayDisk(new RamDisk({ sectors: 128, sectorSize: 4096 }), clock, {
      read: { us: 100 },
      write: { us: 300 },
      flush: { ns: 2_000_000 },
      unmap: { ns: 50 },
    });
    const disk = new MeteredDisk(delayed, clock);
    const run = async (p: Promise<void>) => {
      await clock.advanceToNext();
      await p;
    };
    await run(disk.read(0, new Uint8Array(8 * 4096)));
    await run(disk.read(8, new Uint8Array(4096)));
    await run(disk.write(0, pattern(2 * 4096, 1)));
    await run(disk.flush());
    await run(disk.unmap(0, 16));
    const s = disk.stats();
    expect(s.read).toMatchObject({ ops: 2, bytes: 9 * 4096, errors: 0, inFlight: 0 });
    expect(s.read.latency).toMatchObject({ count: 2, minNs: 100_000, maxNs: 100_000 });
    expect(s.write).toMatchObject({ ops: 1, bytes: 2 * 4096 });
    expect(s.write.latency.minNs).toBe(300_000);
    expect(s.flush).toMatchObject({ ops: 1, bytes: 0 });
    expect(s.flush.latency.maxNs).toBe(2_000_000);
    expect(s.unmap).toMatchObject({ ops: 1, bytes: 16 * 4096 });
    expect(s.unmap.latency.sumNs).toBe(50);
    expect(disk.histogram('read').percentile(50)).toBe(100_000);
    expect(structuredClone(s)).toEqual(s);
  });

  it('counts ops in flight while they run', async () => {
    const clock = new ManualClock();
    const disk = new MeteredDisk(new DelayDisk(new RamDisk({ sectors: 8 }), clock, { write: { us: 1 } }), clock);
    const ps = [disk.write(0, pattern(512, 1)), disk.write(1, pattern(512, 2))];
    expect(disk.stats().write.inFlight).toBe(2);
    await clock.advance(1000);
    await Promise.all(ps);
    expect(disk.stats().write).toMatchObject({ inFlight: 0, ops: 2 });
  });

  it('counts failures by code and rethrows the very same error, keeping them out of the histogram', async () => {
    const fault = new FaultDisk(new RamDisk({ sectors: 32 }));
    const disk = new MeteredDisk(fault, new ManualClock());
    fault.addRule({ op: 'read', sectors: { lba: 4, count: 1 } });
    fault.addRule({ op: 'write', code: 'IO', once: true });
    let thrown: unknown;
    await disk.read(4, new Uint8Array(512)).catch((e: unknown) => (thrown = e));
    expect(thrown).toBeInstanceOf(DiskError);
    expect((thrown as DiskError).lba).toBe(4);
    await expectDiskError(disk.write(0, pattern(512, 1)), 'IO');
    await expectDiskError(disk.read(32, new Uint8Array(512)), 'OUT_OF_RANGE');
    await disk.read(0, new Uint8Array(512));
    const s = disk.stats();
    expect(s.read).toMatchObject({ ops: 1, errors: 2, errorsByCode: { MEDIUM_ERROR: 1, OUT_OF_RANGE: 1 }, bytes: 512, inFlight: 0 });
    expect(s.read.latency.count).toBe(1);
    expect(s.write).toMatchObject({ ops: 0, errors: 1, errorsByCode: { IO: 1 } });
  });

  it('rethrows non-DiskError failures unchanged too', async () => {
    const ram = new RamDisk({ sectors: 8 });
    const boom = new TypeError('bug');
    ram.flush = async () => {
      throw boom;
    };
    const disk = new MeteredDisk(ram, new ManualClock());
    await expect(disk.flush()).rejects.toBe(boom);
    expect(disk.stats().flush).toMatchObject({ errors: 1, errorsByCode: {} });
  });

  it('resets history but keeps counting ops in flight', async () => {
    const clock = new ManualClock();
    const disk = new MeteredDisk(new DelayDisk(new RamDisk({ sectors: 8 }), clock, { read: { ns: 10 } }), clock);
    const first = disk.read(0, new Uint8Array(512));
    await clock.advance(10);
    await first;
    const pending = disk.read(0, new Uint8Array(512));
    disk.reset();
    expect(disk.stats().read).toMatchObject({ ops: 0, inFlight: 1 });
    await clock.advance(10);
    await pending;
    expect(disk.stats().read).toMatchObject({ ops: 1, inFlight: 0 });
    expect(LatencyHistogram.fromSnapshot(disk.stats().read.latency).mean).toBe(10);
    expect(disk.diskType).toBe('metered');
  });
});
