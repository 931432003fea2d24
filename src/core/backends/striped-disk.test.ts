import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StripedDisk } from './striped-disk.ts';
import { RamDisk } from './ram-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { maxSectorsFor, type Disk } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { DelayDisk } from '../decorators/delay-disk.ts';
import { FaultDisk } from '../decorators/fault-disk.ts';
import { ManualClock } from '../testing/manual-clock.ts';

const ram = (sectors: number, sectorSize = 512, readOnly = false) => new RamDisk({ sectors, sectorSize, readOnly, chunkBytes: 8192 });

// Three members, 4-sector chunks, capacity exactly what was asked: sizes are multiples of 12.
describeDiskConformance({
  name: 'StripedDisk (3 members, chunk 4)',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new StripedDisk([ram(sectors / 3, sectorSize), ram(sectors / 3, sectorSize, readOnly), ram(sectors / 3, sectorSize)], { chunkSectors: 4 }),
  maxSectors: (sectorSize) => Math.floor(maxSectorsFor(sectorSize) / 12) * 12,
});

// Two unequal members, 7-sector chunks (not a power of two), exposing fewer sectors than capacity.
describeDiskConformance({
  name: 'StripedDisk (2 unequal members, chunk 7, explicit size)',
  make: async ({ sectorSize, sectors, readOnly }) => {
    const per = Math.ceil(sectors / 14) * 7;
    return new StripedDisk([ram(per + 5, sectorSize, readOnly), ram(per, sectorSize)], { chunkSectors: 7, sectors });
  },
});

describe('StripedDisk layout', () => {
  it('maps sectors round-robin by chunk', () => {
    const d = new StripedDisk([ram(40), ram(40), ram(40)], { chunkSectors: 4 });
    expect(d.locate(0)).toEqual({ member: 0, memberLba: 0 });
    expect(d.locate(3)).toEqual({ member: 0, memberLba: 3 });
    expect(d.locate(4)).toEqual({ member: 1, memberLba: 0 });
    expect(d.locate(11)).toEqual({ member: 2, memberLba: 3 });
    expect(d.locate(12)).toEqual({ member: 0, memberLba: 4 });
    expect(d.locate(29)).toEqual({ member: 1, memberLba: 9 });
    expect(d.extents(2, 12)).toEqual([
      { lba: 2, count: 2, member: 0, memberLba: 2 },
      { lba: 4, count: 4, member: 1, memberLba: 0 },
      { lba: 8, count: 4, member: 2, memberLba: 0 },
      { lba: 12, count: 2, member: 0, memberLba: 4 },
    ]);
    expect(d.extents(5, 0)).toEqual([]);
  });

  it('holds whole chunks of the smallest member times the member count', () => {
    const d = new StripedDisk([ram(50), ram(23), ram(100)], { chunkSectors: 5 });
    expect(d.capacity).toBe(4 * 5 * 3);
    expect(d.sectorCount()).toBe(60);
    expect(new StripedDisk([ram(50), ram(23)], { chunkSectors: 5, sectors: 33 }).sectorCount()).toBe(33);
    expect(new StripedDisk([ram(3)], { chunkSectors: 5 }).sectorCount()).toBe(0);
    expect(new StripedDisk([ram(1000)]).chunkSectors).toBe(128);
  });

  it('refuses impossible configurations with structured errors', () => {
    const err = (f: () => unknown): DiskConfigError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DiskConfigError);
        return e as DiskConfigError;
      }
      return expect.fail('expected a DiskConfigError');
    };
    const mismatch = err(() => new StripedDisk([ram(64), ram(64, 4096)], { chunkSectors: 4 }));
    expect([mismatch.problem, mismatch.field, mismatch.layerIndex]).toEqual(['SECTOR_SIZE_MISMATCH', 'members[1].sectorSize', 1]);
    expect(err(() => new StripedDisk([ram(64), ram(64)], { chunkSectors: 4, sectors: 129 })).problem).toBe('SIZE_MISMATCH');
    expect(err(() => new StripedDisk([])).field).toBe('members');
    const same = ram(64);
    expect(err(() => new StripedDisk([same, same])).field).toBe('members');
    expect(err(() => new StripedDisk([ram(64)], { chunkSectors: 0 })).field).toBe('chunkSectors');
    expect(err(() => new StripedDisk([ram(64)], { chunkSectors: 1.5 })).field).toBe('chunkSectors');
    expect(err(() => new StripedDisk([ram(64)], { sectors: -1 })).field).toBe('sectors');
  });

  it('combines member metadata conservatively', () => {
    const plain = (over: Partial<Disk>): Disk => Object.assign(ram(64), over);
    const d = new StripedDisk(
      [
        plain({ physicalSectorSize: 4096, optimalUnmapSectors: 16 } as Partial<Disk>),
        plain({ fuaRespected: false, unmapBehavior: 'ignored' } as Partial<Disk>),
        ram(64, 512, true),
      ],
      { chunkSectors: 8 },
    );
    expect(d.physicalSectorSize).toBe(4096);
    expect(d.readOnly).toBe(true);
    expect(d.fuaRespected).toBe(false);
    expect(d.unmapBehavior).toBe('unspecified');
    expect(d.optimalUnmapSectors).toBe(48); // a 16-sector member unit spans whole 8-sector stripe rows
    const same = new StripedDisk([ram(64), ram(64)], { chunkSectors: 8 });
    expect([same.unmapBehavior, same.fuaRespected, same.readOnly, same.optimalUnmapSectors]).toEqual(['zeroes', true, false, 32]);
    expect(new StripedDisk([ram(64), ram(64)], { chunkSectors: 32 }).optimalUnmapSectors).toBe(16);
  });
});

describe('StripedDisk against a flat model', () => {
  type Op = { kind: 'write' | 'read' | 'unmap'; lba: number; count: number; seed: number };

  it('matches a byte-array model for random read/write/unmap sequences, and each member holds exactly its chunks', async () => {
    const ss = 512;
    const config = fc.record({
      sizes: fc.array(fc.integer({ min: 0, max: 48 }), { minLength: 1, maxLength: 4 }),
      chunk: fc.integer({ min: 1, max: 9 }),
    });
    const ops = fc.array(
      fc.record({
        kind: fc.constantFrom<Op['kind']>('write', 'read', 'unmap'),
        lba: fc.nat(200),
        count: fc.nat(40),
        seed: fc.nat(),
      }),
      { maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(config, ops, async ({ sizes, chunk }, script) => {
        const members = sizes.map((s) => ram(s));
        const disk = new StripedDisk(members, { chunkSectors: chunk });
        const n = disk.sectorCount();
        expect(n).toBe(Math.floor(Math.min(...sizes) / chunk) * chunk * sizes.length);
        const model = new Uint8Array(n * ss);
        for (const op of script) {
          const inRange = op.lba + op.count <= n;
          if (op.kind === 'write') {
            const data = pattern(op.count * ss, op.seed);
            if (!inRange) {
              await expectDiskError(disk.write(op.lba, data), 'OUT_OF_RANGE');
              continue;
            }
            await disk.write(op.lba, data);
            model.set(data, op.lba * ss);
          } else if (op.kind === 'unmap') {
            if (!inRange) {
              await expectDiskError(disk.unmap(op.lba, op.count), 'OUT_OF_RANGE');
              continue;
            }
            await disk.unmap(op.lba, op.count);
            model.fill(0, op.lba * ss, (op.lba + op.count) * ss);
          } else {
            const buf = new Uint8Array(op.count * ss).fill(0xee);
            if (!inRange) {
              await expectDiskError(disk.read(op.lba, buf), 'OUT_OF_RANGE');
              continue;
            }
            await disk.read(op.lba, buf);
            expectSameBytes(buf, model.subarray(op.lba * ss, (op.lba + op.count) * ss), `read ${op.lba}+${op.count}`);
          }
        }
        // Every member sector is either the image of exactly one striped sector or untouched.
        const expected = sizes.map((s) => new Uint8Array(s * ss));
        const claimed = new Set<string>();
        for (let lba = 0; lba < n; lba++) {
          const { member, memberLba } = disk.locate(lba);
          const where = `${member}:${memberLba}`;
          expect(claimed.has(where), `two striped sectors map to member sector ${where}`).toBe(false);
          claimed.add(where);
          expected[member]!.set(model.subarray(lba * ss, (lba + 1) * ss), memberLba * ss);
        }
        for (const [i, m] of members.entries()) {
          const actual = new Uint8Array(sizes[i]! * ss);
          await m.read(0, actual);
          expectSameBytes(actual, expected[i]!, `member ${i}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('maps striped sectors one-to-one onto member sectors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 40 }), (n, chunk, per) => {
        const disk = new StripedDisk(Array.from({ length: n }, () => ram(per)), { chunkSectors: chunk });
        const seen = new Set<string>();
        for (let lba = 0; lba < disk.sectorCount(); lba++) {
          const { member, memberLba } = disk.locate(lba);
          expect(memberLba).toBeLessThan(per);
          seen.add(`${member}:${memberLba}`);
        }
        expect(seen.size).toBe(disk.sectorCount());
      }),
      { numRuns: 500 },
    );
  });
});

describe('StripedDisk I/O', () => {
  async function settled(p: Promise<unknown>): Promise<boolean> {
    let done = false;
    void p.then(
      () => (done = true),
      () => (done = true),
    );
    await new Promise((r) => setTimeout(r, 0));
    return done;
  }

  it('issues the pieces to all members concurrently', async () => {
    const clock = new ManualClock();
    const members = [0, 1, 2].map(() => new DelayDisk(ram(32), clock, { read: { us: 100 }, write: { us: 100 } }));
    const disk = new StripedDisk(members, { chunkSectors: 4 });
    const p = disk.write(0, pattern(24 * 512, 3)); // six chunks, two per member
    await clock.advance(100_000);
    expect(await settled(p)).toBe(true); // all six pieces waited at once: one delay, not six
    const q = disk.read(0, new Uint8Array(24 * 512));
    expect(clock.pendingSleeps).toBe(6);
    await clock.advance(100_000);
    await q;
  });

  it('rejects only after every piece has settled, with the lowest failing piece’s error at the striped LBA', async () => {
    const clock = new ManualClock();
    const slow = new DelayDisk(ram(32), clock, { read: { us: 50 } });
    const faulty0 = new FaultDisk(ram(32), [{ op: 'read', sectors: { lba: 5, count: 1 }, code: 'MEDIUM_ERROR' }]);
    // Member 2's second chunk (striped sectors 20..23) fails too, but at a higher address.
    const faulty2 = new FaultDisk(ram(32), [{ op: 'read', sectors: { lba: 4, count: 4 }, code: 'IO' }]);
    const disk = new StripedDisk([faulty0, slow, faulty2], { chunkSectors: 4 });
    const buf = new Uint8Array(24 * 512);
    const p = disk.read(0, buf);
    expect(await settled(p)).toBe(false); // member 1 is still holding part of buf
    await clock.advance(50_000);
    const e = await expectDiskError(p, 'MEDIUM_ERROR');
    // Member 0's sector 5 is its second chunk's second sector: striped chunk 3, sector 13.
    expect(e.lba).toBe(13);
    expect(disk.locate(13)).toEqual({ member: 0, memberLba: 5 });
    expect((e.cause as { lba: number }).lba).toBe(5);
  });

  it('flushes and closes every member', async () => {
    const calls: string[] = [];
    const members = [0, 1, 2].map((i) => {
      const m = ram(16);
      m.flush = async () => void calls.push(`flush ${i}`);
      m.close = async () => void calls.push(`close ${i}`);
      return m;
    });
    const disk = new StripedDisk(members, { chunkSectors: 2 });
    await disk.flush();
    await disk.close();
    expect(calls.sort()).toEqual(['close 0', 'close 1', 'close 2', 'flush 0', 'flush 1', 'flush 2']);
    expect(disk.members).toEqual(members);
    expect((disk as Disk).resize).toBeUndefined();
  });
});
