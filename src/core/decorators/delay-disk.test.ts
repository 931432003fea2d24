import { describe, expect, it } from 'vitest';
import { DelayDisk, durationNs } from './delay-disk.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeDiskConformance, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { DiskConfigError } from '../disk/errors.ts';
import type { Clock } from '../ports/clock.ts';

/** A clock whose sleeps finish at once but still move time, so the suite runs fast. */
function instantClock(): Clock & { slept: number } {
  let now = 0;
  return {
    slept: 0,
    nowNs: () => now,
    async sleep(ns) {
      now += ns;
      this.slept += ns;
    },
  };
}

describeDiskConformance({
  name: 'DelayDisk over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new DelayDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 }), instantClock(), {
      read: { us: 5 },
      write: { ns: 700 },
      flush: { us: 1 },
      unmap: { ns: 1 },
    }),
});

/** Whether `p` has settled after the microtask queue drains. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

describe('DelayDisk', () => {
  it('holds each op type for its own delay, measured on the clock', async () => {
    const clock = new ManualClock();
    const disk = new DelayDisk(new RamDisk({ sectors: 64 }), clock, {
      read: { us: 100 },
      write: { us: 250 },
      flush: { ns: 1_000_000 },
      unmap: { ns: 40 },
    });
    expect(disk.delays()).toEqual({ read: 100_000, write: 250_000, flush: 1_000_000, unmap: 40 });
    const cases: [string, () => Promise<void>, number][] = [
      ['read', () => disk.read(0, new Uint8Array(512)), 100_000],
      ['write', () => disk.write(0, pattern(512, 1)), 250_000],
      ['flush', () => disk.flush(), 1_000_000],
      ['unmap', () => disk.unmap(0, 1), 40],
    ];
    for (const [name, op, ns] of cases) {
      const p = op();
      await clock.advance(ns - 1);
      expect(await settled(p), `${name} before its delay`).toBe(false);
      await clock.advance(1);
      expect(await settled(p), `${name} at its delay`).toBe(true);
    }
  });

  it('applies the write only after the delay, and concurrent ops overlap their delays', async () => {
    const clock = new ManualClock();
    const ram = new RamDisk({ sectors: 64 });
    const disk = new DelayDisk(ram, clock, { write: { us: 10 } });
    const writes = [disk.write(0, pattern(512, 1)), disk.write(1, pattern(512, 2))];
    await clock.advance(5_000);
    const seen = new Uint8Array(1024);
    await ram.read(0, seen);
    expectSameBytes(seen, new Uint8Array(1024), 'nothing written before the delay');
    await clock.advance(5_000);
    await Promise.all(writes);
    expect(clock.nowNs()).toBe(10_000);
    await ram.read(0, seen);
    expectSameBytes(seen.subarray(0, 512), pattern(512, 1));
  });

  it('does not wait at all for a zero delay', async () => {
    const clock = new ManualClock();
    const disk = new DelayDisk(new RamDisk({ sectors: 8 }), clock, { write: { us: 10 } });
    expect(await settled(disk.read(0, new Uint8Array(512)))).toBe(true);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('changes delays at runtime for later ops, keeping the ones not named', async () => {
    const clock = instantClock();
    const disk = new DelayDisk(new RamDisk({ sectors: 8 }), clock, { read: { ns: 10 }, write: { ns: 20 } });
    disk.setDelays({ read: { us: 3 } });
    await disk.read(0, new Uint8Array(512));
    await disk.write(0, new Uint8Array(512));
    expect(clock.slept).toBe(3000 + 20);
    expect(disk.diskType).toBe('delay');
  });

  it('rejects negative or non-finite delays and leaves the old ones', () => {
    const disk = new DelayDisk(new RamDisk({ sectors: 8 }), instantClock(), { read: { ns: 10 } });
    expect(() => disk.setDelays({ write: { ns: 5 }, read: { us: -1 } })).toThrow(DiskConfigError);
    expect(() => disk.setDelays({ flush: { ns: Number.POSITIVE_INFINITY } })).toThrow(DiskConfigError);
    expect(disk.delays()).toEqual({ read: 10, write: 0, flush: 0, unmap: 0 });
    expect(durationNs({ us: 1.5 })).toBe(1500);
  });
});
