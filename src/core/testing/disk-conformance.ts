/**
 * The shared conformance suite: every Disk in the project runs these tests (Vitest), at sector
 * sizes 512 and 4096, so that the contract in disk/disk.ts holds for all of them, not just the
 * ones someone remembered to test.
 *
 * A target supplies a factory for fresh disks. Range tests call the disk *directly* (backends
 * must range-check themselves); argument-shape and read-only tests go through `openDisk`, which
 * owns those rules.
 */
import { describe, expect, it } from 'vitest';
import type { Disk } from '../disk/disk.ts';
import { maxSectorsFor } from '../disk/disk.ts';
import { DiskError, type DiskErrorCode } from '../disk/errors.ts';
import { openDisk } from '../disk/open-disk.ts';

export interface ConformanceOptions {
  readonly sectorSize: number;
  readonly sectors: number;
  readonly readOnly: boolean;
}

export interface ConformanceTarget {
  readonly name: string;
  /** A fresh disk with these parameters, reading as zeroes, honouring `readOnly`. */
  make(options: ConformanceOptions): Promise<Disk>;
  /** Sector sizes to test; default [512, 4096]. */
  readonly sectorSizes?: readonly number[];
  /** Largest sector count the target can create (a file system caps FileDisk); default: 2^53 bytes. */
  readonly maxSectors?: (sectorSize: number) => number;
}

/** Deterministic bytes that differ per sector and per call, so misplaced data is caught. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export async function expectDiskError(p: Promise<unknown>, code: DiskErrorCode): Promise<DiskError> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error, `expected DiskError ${code}`).toBeInstanceOf(DiskError);
  expect((error as DiskError).code).toBe(code);
  return error as DiskError;
}


/** Byte-exact comparison that reports the first differing offset (toEqual on megabytes is slow and unreadable). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      expect.fail(`${what}: first difference at byte ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

async function readBack(disk: Disk, lba: number, sectors: number): Promise<Uint8Array> {
  const buf = new Uint8Array(sectors * disk.sectorSize).fill(0xee);
  await disk.read(lba, buf);
  return buf;
}

const SECTORS = 300; // odd-sized on purpose: not a multiple of any chunk or block size

export function describeDiskConformance(target: ConformanceTarget): void {
  for (const sectorSize of target.sectorSizes ?? [512, 4096]) {
    describe(`${target.name} conforms to the Disk contract (sector size ${sectorSize})`, () => {
      const make = async (sectors = SECTORS, readOnly = false) =>
        target.make({ sectorSize, sectors, readOnly });
      const zero = (sectors: number) => new Uint8Array(sectors * sectorSize);

      it('reports valid metadata and the size it was made with', async () => {
        const raw = await make();
        const disk = openDisk(raw);
        expect(disk.sectorSize).toBe(sectorSize);
        expect(disk.sectorCount()).toBe(SECTORS);
        expect(disk.readOnly).toBe(false);
        await disk.close();
      });

      it('reads zeroes where nothing was written, filling the whole buffer', async () => {
        const disk = openDisk(await make());
        expectSameBytes(await readBack(disk, 0, 17), zero(17));
        expectSameBytes(await readBack(disk, SECTORS - 3, 3), zero(3));
        await disk.close();
      });

      it('reads back what was written, at the edges and across internal boundaries', async () => {
        const disk = openDisk(await make());
        const writes: [number, number][] = [[0, 1], [SECTORS - 1, 1], [5, 37], [127, 5], [255, 2], [41, 90]];
        for (const [i, [lba, n]] of writes.entries()) await disk.write(lba, pattern(n * sectorSize, i + 1));
        const model = zero(SECTORS);
        for (const [i, [lba, n]] of writes.entries()) model.set(pattern(n * sectorSize, i + 1), lba * sectorSize);
        expectSameBytes(await readBack(disk, 0, SECTORS), model);
        expectSameBytes(await readBack(disk, 40, 3), model.subarray(40 * sectorSize, 43 * sectorSize));
        await disk.close();
      });

      it('neither keeps nor modifies the caller’s buffers', async () => {
        const disk = openDisk(await make());
        const data = pattern(4 * sectorSize, 9);
        const copy = data.slice();
        await disk.write(8, data, { fua: true });
        expectSameBytes(data, copy);
        data.fill(0);
        const first = await readBack(disk, 8, 4);
        first.fill(1);
        expectSameBytes(await readBack(disk, 8, 4), copy);
        await disk.close();
      });

      it('rejects I/O at or past the end with OUT_OF_RANGE, changing nothing', async () => {
        const raw = await make();
        const last = pattern(sectorSize, 3);
        await raw.write(SECTORS - 1, last);
        await expectDiskError(raw.read(SECTORS, zero(1)), 'OUT_OF_RANGE');
        await expectDiskError(raw.write(SECTORS, pattern(sectorSize, 4)), 'OUT_OF_RANGE');
        await expectDiskError(raw.write(SECTORS - 1, pattern(2 * sectorSize, 5)), 'OUT_OF_RANGE');
        await expectDiskError(raw.read(SECTORS - 1, zero(2)), 'OUT_OF_RANGE');
        await expectDiskError(raw.unmap(SECTORS - 1, 2), 'OUT_OF_RANGE');
        await expectDiskError(raw.read(Number.MAX_SAFE_INTEGER, zero(1)), 'OUT_OF_RANGE');
        expectSameBytes(await readBack(raw, SECTORS - 1, 1), last);
        await raw.close();
      });

      it('treats zero-length I/O up to the end as a no-op, and past it as out of range', async () => {
        const raw = await make();
        const empty = new Uint8Array(0);
        await raw.read(SECTORS, empty);
        await raw.write(0, empty);
        await raw.unmap(SECTORS, 0);
        await expectDiskError(raw.read(SECTORS + 1, empty), 'OUT_OF_RANGE');
        const disk = openDisk(raw);
        await disk.write(SECTORS, empty);
        await expectDiskError(disk.write(SECTORS + 1, empty), 'OUT_OF_RANGE');
        await disk.close();
      });

      it('rejects malformed requests through openDisk with INVALID_INPUT', async () => {
        const disk = openDisk(await make());
        await expectDiskError(disk.read(0, new Uint8Array(sectorSize + 1)), 'INVALID_INPUT');
        await expectDiskError(disk.write(0, new Uint8Array(sectorSize / 2)), 'INVALID_INPUT');
        await expectDiskError(disk.read(-1, zero(1)), 'INVALID_INPUT');
        await expectDiskError(disk.read(1.5, zero(1)), 'INVALID_INPUT');
        await expectDiskError(disk.unmap(0, -1), 'INVALID_INPUT');
        await disk.close();
      });

      it('refuses writes and unmaps on a read-only disk with READ_ONLY, leaving data intact', async () => {
        const disk = openDisk(await make(SECTORS, true));
        expect(disk.readOnly).toBe(true);
        await expectDiskError(disk.write(0, pattern(sectorSize, 1)), 'READ_ONLY');
        await expectDiskError(disk.unmap(0, 1), 'READ_ONLY');
        if (disk.resize) await expectDiskError(disk.resize(SECTORS * 2), 'READ_ONLY');
        await disk.flush();
        expectSameBytes(await readBack(disk, 0, 1), zero(1));
        await disk.close();
      });

      it('reaches the largest representable sector', async () => {
        const max = target.maxSectors?.(sectorSize) ?? maxSectorsFor(sectorSize);
        const disk = openDisk(await make(max));
        expect(disk.sectorCount()).toBe(max);
        const data = pattern(sectorSize, 77);
        await disk.write(max - 1, data);
        expectSameBytes(await readBack(disk, max - 1, 1), data);
        expectSameBytes(await readBack(disk, max - 2, 1), zero(1));
        await expectDiskError(disk.read(max, zero(1)), 'OUT_OF_RANGE');
        await disk.close();
      });

      it('unmaps as its unmapBehavior says', async () => {
        const disk = openDisk(await make());
        const data = pattern(20 * sectorSize, 11);
        await disk.write(10, data);
        await disk.unmap(12, 5);
        const after = await readBack(disk, 10, 20);
        expectSameBytes(after.subarray(0, 2 * sectorSize), data.subarray(0, 2 * sectorSize));
        expectSameBytes(after.subarray(7 * sectorSize), data.subarray(7 * sectorSize));
        const unmapped = after.subarray(2 * sectorSize, 7 * sectorSize);
        if (disk.unmapBehavior === 'zeroes') expectSameBytes(unmapped, zero(5));
        if (disk.unmapBehavior === 'ignored') expectSameBytes(unmapped, data.subarray(2 * sectorSize, 7 * sectorSize));
        expectSameBytes(await readBack(disk, 12, 5), unmapped);
        await disk.close();
      });

      it('lands concurrent writes to different places, and flushes', async () => {
        const disk = openDisk(await make());
        await Promise.all(Array.from({ length: 16 }, (_, i) => disk.write(i * 17, pattern(3 * sectorSize, 100 + i))));
        await disk.flush();
        const all = await Promise.all(Array.from({ length: 16 }, (_, i) => readBack(disk, i * 17, 3)));
        all.forEach((got, i) => expectSameBytes(got, pattern(3 * sectorSize, 100 + i)));
        await disk.close();
      });

      it('after resize, exposes zeroed sectors when growing and rejects past the new end', async () => {
        const disk = openDisk(await make());
        if (!disk.resize) {
          await expect(disk.resize).toBeUndefined();
          return;
        }
        await disk.write(SECTORS - 1, pattern(sectorSize, 5));
        await disk.resize(SECTORS + 50);
        expect(disk.sectorCount()).toBe(SECTORS + 50);
        expectSameBytes(await readBack(disk, SECTORS - 1, 1), pattern(sectorSize, 5));
        expectSameBytes(await readBack(disk, SECTORS, 50), zero(50));
        await disk.resize(SECTORS - 10);
        await expectDiskError(disk.read(SECTORS - 10, zero(1)), 'OUT_OF_RANGE');
        await disk.resize(SECTORS);
        expectSameBytes(await readBack(disk, SECTORS - 10, 10), zero(10));
        await disk.close();
      });
    });
  }
}
