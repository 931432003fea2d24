import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RamDisk } from '../core/backends/ram-disk.ts';
import { expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { copyDisk, firstDifference, firstNonZero } from './copy.ts';

/** Records the largest read and every write, to check bounded chunks and zero skipping. */
class SpyDisk extends RamDisk {
  maxRead = 0;
  readonly reads: [number, number][] = [];
  readonly writes: [number, number][] = [];

  override read(lba: number, buf: Uint8Array): Promise<void> {
    this.maxRead = Math.max(this.maxRead, buf.length);
    this.reads.push([lba, buf.length / 512]);
    return super.read(lba, buf);
  }

  override write(lba: number, data: Uint8Array): Promise<void> {
    this.writes.push([lba, data.length / 512]);
    return super.write(lba, data);
  }
}

describe('copyDisk', () => {
  it('reads only the extents that may hold data, and reports progress to the end', async () => {
    const source = new SpyDisk({ sectors: 1000 });
    await source.write(10, pattern(512, 1));
    await source.write(600, pattern(512, 2));
    source.reads.length = 0;
    const target = new SpyDisk({ sectors: 1000 });
    const progress: number[] = [];
    const dataExtents = [
      { start: 0, length: 512 * 100, data: true },
      { start: 512 * 100, length: 512 * 900, data: false }, // claims no data: sector 600 must not be copied
    ];
    await copyDisk(source, target, { chunkBytes: 32 * 512, dataExtents, onProgress: (done) => progress.push(done) });
    expect(source.reads).toEqual([[0, 32], [32, 32], [64, 32], [96, 4]]);
    expect(target.writes).toEqual([[8, 8]]);
    expect(progress.at(-1)).toBe(1000 * 512);
  });

  it('keeps up to writesInFlight writes going at once, each from a buffer no later read reuses', async () => {
    const source = new SpyDisk({ sectors: 512 });
    for (let lba = 0; lba < 512; lba += 32) await source.write(lba, pattern(32 * 512, lba + 1));
    const target = new SpyDisk({ sectors: 512 });
    let running = 0;
    let most = 0;
    const slowWrite = target.write.bind(target);
    target.write = async (lba: number, data: Uint8Array) => {
      running++;
      most = Math.max(most, running);
      const copy = data.slice(); // what the caller handed over, checked when the write lands
      await new Promise((resolve) => setTimeout(resolve, (lba * 7) % 5));
      expectSameBytes(data, copy, `buffer of the write at LBA ${lba}`);
      await slowWrite(lba, data);
      running--;
    };
    const progress: number[] = [];
    await copyDisk(source, target, { chunkBytes: 32 * 512, writesInFlight: 3, onProgress: (done) => progress.push(done) });
    expect(most).toBe(3);
    expect(progress).toEqual([...progress].sort((x, y) => x - y)); // never backwards, though writes end out of order
    const a = new Uint8Array(512 * 512);
    const b = new Uint8Array(512 * 512);
    await source.read(0, a);
    await target.read(0, b);
    expectSameBytes(b, a);
  });

  it('writes zero blocks too when asked (targets where unwritten blocks are not zeroes)', async () => {
    const source = new SpyDisk({ sectors: 64 });
    await source.write(8, pattern(512, 4));
    const target = new SpyDisk({ sectors: 64 });
    await target.write(0, pattern(64 * 512, 9));
    await copyDisk(source, target, { writeZeroes: true, dataExtents: [{ start: 0, length: 64 * 512, data: false }] });
    const a = new Uint8Array(64 * 512);
    const b = new Uint8Array(64 * 512);
    await source.read(0, a);
    await target.read(0, b);
    expectSameBytes(b, a);
  });

  it('copies everything in bounded chunks and skips zero blocks', async () => {
    const source = new SpyDisk({ sectors: 1000 });
    await source.write(0, pattern(512, 1));
    await source.write(500, pattern(20 * 512, 2));
    await source.write(999, pattern(512, 3));
    const target = new SpyDisk({ sectors: 1000 });
    await copyDisk(source, target, { chunkBytes: 64 * 1024 });
    expect(source.maxRead).toBe(64 * 1024);
    // Only the 4 KiB blocks holding data were written: [0,8), [496,528) split at the chunk
    // boundary at sector 512, and [992,1000).
    expect(target.writes).toEqual([[0, 8], [496, 16], [512, 8], [992, 8]]);
    const a = new Uint8Array(1000 * 512);
    const b = new Uint8Array(1000 * 512);
    await source.read(0, a);
    await target.read(0, b);
    expectSameBytes(b, a);
  });

  it('reports progress and stops when the callback throws', async () => {
    const seen: number[] = [];
    const boom = new Error('stop');
    await expect(
      copyDisk(new RamDisk({ sectors: 64 }), new RamDisk({ sectors: 64 }), {
        chunkBytes: 8192,
        onProgress: (done) => {
          seen.push(done);
          if (done >= 16384) throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(seen).toEqual([8192, 16384]);
  });

  it('refuses disks of different sizes', async () => {
    await expect(copyDisk(new RamDisk({ sectors: 2 }), new RamDisk({ sectors: 3 }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('byte scanning helpers', () => {
  it('agree with a naive scan at any alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 3 }), fc.nat(70), (bytes, skew, flip) => {
        const a = new Uint8Array(bytes.length + skew).subarray(skew);
        a.set(bytes);
        const b = a.slice();
        if (flip < b.length) b[flip] = (b[flip] ?? 0) ^ 0x40;
        expect(firstDifference(a, b)).toBe(flip < b.length ? flip : -1);
        expect(firstNonZero(a)).toBe(a.findIndex((x) => x !== 0));
      }),
      { numRuns: 1000, seed: 7 },
    );
    expect(firstDifference(new Uint8Array(4), new Uint8Array(6))).toBe(4);
  });
});
