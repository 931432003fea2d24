import { describe, expect, it } from 'vitest';
import { FaultDisk } from './fault-disk.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { DiskConfigError } from '../disk/errors.ts';

describeDiskConformance({
  name: 'FaultDisk (no rules) over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) => new FaultDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 })),
});

describeDiskConformance({
  name: 'FaultDisk (rules that never match) over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new FaultDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 }), [
      { op: 'read', nth: 1_000_000 },
      { sectors: { lba: Number.MAX_SAFE_INTEGER - 1, count: 1 }, code: 'IO' },
    ]),
});

const setup = (sectors = 64) => {
  const ram = new RamDisk({ sectors });
  return { ram, disk: new FaultDisk(ram) };
};
const buf = (n = 1) => new Uint8Array(n * 512);

describe('FaultDisk', () => {
  it('fails the nth matching operation once, counting only that op type', async () => {
    const { disk } = setup();
    disk.addRule({ op: 'read', nth: 3, once: true, code: 'IO' });
    await disk.read(0, buf());
    await disk.write(0, pattern(512, 1)); // writes do not count towards a read rule
    await disk.read(0, buf());
    const e = await expectDiskError(disk.read(7, buf()), 'IO');
    expect(e.lba).toBe(7);
    await disk.read(7, buf());
    expect(disk.rules()).toEqual([]);
  });

  it('without once, keeps failing from the nth operation on, any op type', async () => {
    const { disk } = setup();
    const id = disk.addRule({ nth: 2, code: 'ABORTED' });
    await disk.flush();
    await expectDiskError(disk.write(0, pattern(512, 1)), 'ABORTED');
    await expectDiskError(disk.flush(), 'ABORTED');
    await expectDiskError(disk.unmap(0, 1), 'ABORTED');
    expect(disk.rules()[0]).toMatchObject({ id, matched: 4, fired: 3 });
    expect(disk.removeRule(id)).toBe(true);
    expect(disk.removeRule(id)).toBe(false);
    await disk.flush();
  });

  it('fails any operation touching a sector range with MEDIUM_ERROR at the first bad sector', async () => {
    const { disk } = setup();
    disk.addRule({ sectors: { lba: 10, count: 5 } });
    await disk.read(0, buf(10)); // 0..9: just before
    await disk.read(15, buf(3)); // 15..17: just after
    await disk.flush(); // touches no sectors
    expect((await expectDiskError(disk.read(8, buf(4)), 'MEDIUM_ERROR')).lba).toBe(10);
    expect((await expectDiskError(disk.read(12, buf(10)), 'MEDIUM_ERROR')).lba).toBe(12);
    expect((await expectDiskError(disk.unmap(14, 1), 'MEDIUM_ERROR')).lba).toBe(14);
    expect((await expectDiskError(disk.write(0, pattern(64 * 512, 2)), 'MEDIUM_ERROR')).lba).toBe(10);
    await disk.read(10, new Uint8Array(0)); // zero-length touches nothing
  });

  it('never lets a faulted write reach the inner disk, nor touches a faulted read buffer', async () => {
    const { ram, disk } = setup();
    await ram.write(4, pattern(512 * 4, 1));
    disk.addRule({ op: 'write', sectors: { lba: 6, count: 1 } });
    await expectDiskError(disk.write(4, pattern(512 * 4, 2)), 'MEDIUM_ERROR');
    const got = buf(4);
    await ram.read(4, got);
    expectSameBytes(got, pattern(512 * 4, 1));
    disk.clearRules();
    disk.addRule({ op: 'read', code: 'IO' });
    const target = buf(1).fill(0xab);
    await expectDiskError(disk.read(4, target), 'IO');
    expect(target.every((b) => b === 0xab)).toBe(true);
  });

  it('combines conditions: nth counts only ops of that type touching the range', async () => {
    const { disk } = setup();
    disk.addRule({ op: 'write', sectors: { lba: 0, count: 2 }, nth: 2, code: 'QUOTA', once: true });
    await disk.write(1, pattern(512, 1)); // match 1
    await disk.write(5, pattern(512, 1)); // outside the range
    await disk.read(0, buf()); // other type
    await expectDiskError(disk.write(0, pattern(512, 1)), 'QUOTA');
    await disk.write(0, pattern(512, 1));
  });

  it('checks rules in order; later rules only count what reaches them', async () => {
    const { disk } = setup();
    const a = disk.addRule({ op: 'read', code: 'IO', once: true });
    const b = disk.addRule({ op: 'read', nth: 2, code: 'NETWORK' });
    await expectDiskError(disk.read(0, buf()), 'IO');
    await disk.read(0, buf());
    await expectDiskError(disk.read(0, buf()), 'NETWORK');
    expect(disk.rules().map((r) => r.id)).toEqual([b]);
    expect(a).not.toBe(b);
  });

  it('rejects out-of-range requests as OUT_OF_RANGE before any rule counts them', async () => {
    const { disk } = setup(16);
    disk.addRule({ nth: 1, code: 'IO' });
    await expectDiskError(disk.read(16, buf()), 'OUT_OF_RANGE');
    expect(disk.rules()[0]!.matched).toBe(0);
  });

  it('validates rules', () => {
    const { disk } = setup();
    expect(() => disk.addRule({ nth: 0 })).toThrow(DiskConfigError);
    expect(() => disk.addRule({ sectors: { lba: -1, count: 1 } })).toThrow(DiskConfigError);
    expect(() => disk.addRule({ sectors: { lba: 0, count: 0 } })).toThrow(DiskConfigError);
    expect(() => disk.addRule({ op: 'flush', sectors: { lba: 0, count: 1 } })).toThrow(DiskConfigError);
    expect(() => disk.addRule({ code: 'NOPE' as never })).toThrow(DiskConfigError);
    expect(disk.rules()).toEqual([]);
    expect(disk.diskType).toBe('fault');
  });
});
