import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RamDisk } from '../backends/ram-disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import type { WriteOptions } from '../disk/disk.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { ByteDisk, type SectorCall } from './byte-disk.ts';

function setup(sectors: number, sectorSize = 512) {
  const calls: SectorCall[] = [];
  const raw = new RamDisk({ sectors, sectorSize, chunkBytes: 4096 });
  const io = new ByteDisk(openDisk(raw), (c) => calls.push(c));
  return { raw, io, calls };
}

/** A RamDisk whose unmap does nothing, as a disk with unmapBehavior 'ignored' may. */
class IgnoringUnmapDisk extends RamDisk {
  override readonly unmapBehavior = 'ignored' as const;
  fuaSeen: boolean[] = [];
  override async unmap(): Promise<void> {}
  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    this.fuaSeen.push(options?.fua ?? false);
    await super.write(lba, data);
  }
}

type Op =
  | { kind: 'write'; offset: number; length: number; seed: number; fua: boolean }
  | { kind: 'zero'; offset: number; length: number; mayUnmap: boolean }
  | { kind: 'discard'; offset: number; length: number }
  | { kind: 'read'; offset: number; length: number };

function opArb(size: number): fc.Arbitrary<Op> {
  // Mostly in range, sometimes straddling or past the end.
  const range = fc.tuple(fc.integer({ min: 0, max: size + 600 }), fc.integer({ min: 0, max: 3 * 4096 + 7 }));
  return fc.oneof(
    range.chain(([offset, length]) =>
      fc.record({ kind: fc.constant('write' as const), offset: fc.constant(offset), length: fc.constant(length), seed: fc.nat(1000), fua: fc.boolean() }),
    ),
    range.chain(([offset, length]) => fc.record({ kind: fc.constant('zero' as const), offset: fc.constant(offset), length: fc.constant(length), mayUnmap: fc.boolean() })),
    range.map(([offset, length]) => ({ kind: 'discard' as const, offset, length })),
    range.map(([offset, length]) => ({ kind: 'read' as const, offset, length })),
  );
}

describe('ByteDisk against a byte-array model', () => {
  for (const sectorSize of [512, 4096]) {
    it(`random unaligned writes, zeroes, discards and reads agree with the model (sector size ${sectorSize})`, async () => {
      const sectors = Math.ceil(40_000 / sectorSize);
      const size = sectors * sectorSize;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb(size), { minLength: 1, maxLength: 25 }), async (ops) => {
          const { io, calls } = setup(sectors, sectorSize);
          const model = new Uint8Array(size);
          for (const op of ops) {
            calls.length = 0;
            const inRange = op.offset + op.length <= size;
            if (!inRange) {
              const p =
                op.kind === 'read' ? io.read(op.offset, op.length) : op.kind === 'discard' ? io.discard(op.offset, op.length) : io.write(op.offset, new Uint8Array(op.length));
              await expectDiskError(p, 'OUT_OF_RANGE');
              expect(calls, 'no Disk call for an out-of-range request').toEqual([]);
              continue;
            }
            if (op.kind === 'write') {
              const data = pattern(op.length, op.seed + 1);
              await io.write(op.offset, data, op.fua);
              model.set(data, op.offset);
            } else if (op.kind === 'zero') {
              await io.writeZeroes(op.offset, op.length, { mayUnmap: op.mayUnmap });
              model.fill(0, op.offset, op.offset + op.length);
            } else if (op.kind === 'discard') {
              await io.discard(op.offset, op.length);
              // RamDisk unmaps to zeroes; only the whole sectors inside the range are unmapped.
              const first = Math.ceil(op.offset / sectorSize) * sectorSize;
              const last = Math.floor((op.offset + op.length) / sectorSize) * sectorSize;
              if (first < last) model.fill(0, first, last);
            } else {
              expectSameBytes(await io.read(op.offset, op.length), model.subarray(op.offset, op.offset + op.length), 'read');
            }
            for (const c of calls) {
              if (c.op !== 'flush') expect(c.lba + c.count, 'every Disk call stays in range').toBeLessThanOrEqual(sectors);
            }
            if (op.kind === 'write') expect(calls.filter((c) => c.op === 'write')).toHaveLength(op.length === 0 ? 0 : 1);
          }
          expectSameBytes(await io.read(0, size), model, 'whole disk');
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('ByteDisk: what an unaligned request becomes', () => {
  it('passes aligned writes and reads straight through', async () => {
    const { io, calls } = setup(64);
    await io.write(1024, pattern(2048, 1), true);
    await io.read(512, 512);
    expect(calls).toEqual([
      { op: 'write', lba: 2, count: 4, fua: true },
      { op: 'read', lba: 1, count: 1 },
    ]);
  });

  it('reads the covering sectors of an unaligned read once', async () => {
    const { io, calls } = setup(64);
    await io.write(0, pattern(4096, 2));
    calls.length = 0;
    const got = await io.read(100, 1000);
    expectSameBytes(got, pattern(4096, 2).subarray(100, 1100));
    expect(calls).toEqual([{ op: 'read', lba: 0, count: 3 }]);
  });

  it('read-modify-writes the partial head and tail, reading a shared sector only once', async () => {
    const { io, calls } = setup(64);
    await io.write(100, new Uint8Array(10).fill(1));
    expect(calls).toEqual([
      { op: 'read', lba: 0, count: 1 },
      { op: 'write', lba: 0, count: 1, fua: false },
    ]);
    calls.length = 0;
    await io.write(500, new Uint8Array(600).fill(2));
    expect(calls).toEqual([
      { op: 'read', lba: 0, count: 1 },
      { op: 'read', lba: 2, count: 1 },
      { op: 'write', lba: 0, count: 3, fua: false },
    ]);
    calls.length = 0;
    await io.write(1024, new Uint8Array(100).fill(3));
    expect(calls).toEqual([
      { op: 'read', lba: 2, count: 1 },
      { op: 'write', lba: 2, count: 1, fua: false },
    ]);
    const all = await io.read(0, 1536);
    expect(all[99]).toBe(0);
    expect(all[100]).toBe(1);
    expect(all[499]).toBe(0);
    expect(all[500]).toBe(2);
    expect(all[1023]).toBe(2);
    expect(all[1024]).toBe(3);
    expect(all[1124]).toBe(0);
  });

  it('makes no Disk call for zero-length requests inside the disk, and rejects one past the end', async () => {
    const { io, calls } = setup(4);
    await io.read(2048, 0);
    await io.write(100, new Uint8Array(0));
    await io.writeZeroes(2048, 0);
    await io.discard(7, 0);
    expect(calls).toEqual([]);
    const e = await expectDiskError(io.read(2049, 0), 'OUT_OF_RANGE');
    expect(e.message).toBe('read of 0 sector(s) at LBA 5 is beyond the end of a disk of 4 sectors');
  });

  it('rejects a range past the end with the words the disk uses for the covering sectors', async () => {
    const { io, raw } = setup(4);
    const e = await expectDiskError(io.write(2000, new Uint8Array(100)), 'OUT_OF_RANGE');
    const direct = await expectDiskError(raw.write(3, new Uint8Array(1024)), 'OUT_OF_RANGE');
    expect(e.message).toBe(direct.message);
    await expectDiskError(io.read(Number.MAX_SAFE_INTEGER, 1), 'OUT_OF_RANGE');
    await expectDiskError(io.read(-1, 1), 'INVALID_INPUT');
    await expectDiskError(io.read(0, 1.5), 'INVALID_INPUT');
  });

  it('unmaps the whole sectors of a zero write when allowed and the disk reads unmapped sectors as zeroes', async () => {
    const { io, calls } = setup(64);
    await io.writeZeroes(100, 2000, { mayUnmap: true, fua: true });
    expect(calls).toEqual([
      { op: 'read', lba: 0, count: 1 },
      { op: 'write', lba: 0, count: 1, fua: true },
      { op: 'unmap', lba: 1, count: 3 },
      { op: 'read', lba: 4, count: 1 },
      { op: 'write', lba: 4, count: 1, fua: true },
      { op: 'flush' },
    ]);
  });

  it('writes real zeroes, a megabyte at a time, when unmap would not read back as zeroes', async () => {
    const raw = new IgnoringUnmapDisk({ sectors: 8192 });
    const calls: SectorCall[] = [];
    const io = new ByteDisk(openDisk(raw), (c) => calls.push(c));
    await io.write(0, new Uint8Array(3 * 2 ** 20).fill(9));
    calls.length = 0;
    await io.writeZeroes(0, 3 * 2 ** 20 - 1, { mayUnmap: true, fua: true });
    expect(calls).toEqual([
      { op: 'write', lba: 0, count: 2048, fua: true },
      { op: 'write', lba: 2048, count: 2048, fua: true },
      { op: 'write', lba: 4096, count: 2047, fua: true },
      { op: 'read', lba: 6143, count: 1 },
      { op: 'write', lba: 6143, count: 1, fua: true },
    ]);
    expect(raw.fuaSeen.slice(-3)).toEqual([true, true, true]);
    const back = await io.read(0, 3 * 2 ** 20);
    expect(back.subarray(0, back.length - 1).every((b) => b === 0)).toBe(true);
    expect(back[back.length - 1]).toBe(9);
  });

  it('refuses a no-fallback zero write unless the whole range can be unmapped to zeroes', async () => {
    const { io, calls } = setup(64);
    await io.writeZeroes(512, 1024, { mayUnmap: true, noFallback: true });
    expect(calls).toEqual([{ op: 'unmap', lba: 1, count: 2 }]);
    calls.length = 0;
    await expectDiskError(io.writeZeroes(512, 1000, { mayUnmap: true, noFallback: true }), 'UNSUPPORTED');
    await expectDiskError(io.writeZeroes(512, 1024, { noFallback: true }), 'UNSUPPORTED');
    const ignoring = new ByteDisk(openDisk(new IgnoringUnmapDisk({ sectors: 8 })));
    const e = await expectDiskError(ignoring.writeZeroes(0, 512, { mayUnmap: true, noFallback: true }), 'UNSUPPORTED');
    expect(e.message).toContain("this disk's unmap: ignored");
    expect(calls).toEqual([]);
  });

  it('leaves the partial sectors at the ends of a discard alone', async () => {
    const { io, calls } = setup(8);
    await io.write(0, new Uint8Array(4096).fill(5));
    calls.length = 0;
    await io.discard(100, 1000);
    expect(calls).toEqual([{ op: 'unmap', lba: 1, count: 1 }]);
    calls.length = 0;
    await io.discard(100, 300);
    expect(calls).toEqual([]);
    const back = await io.read(0, 1536);
    expect(back[511]).toBe(5);
    expect(back[512]).toBe(0);
    expect(back[1023]).toBe(0);
    expect(back[1024]).toBe(5);
  });

  it('propagates Disk failures unchanged', async () => {
    const io = new ByteDisk(openDisk(new RamDisk({ sectors: 8, readOnly: true })));
    const e = await expectDiskError(io.write(10, new Uint8Array(5)), 'READ_ONLY');
    expect(e.message).toBe("write: disk 'ram' is read-only");
  });
});
