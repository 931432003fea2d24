/**
 * Seeded mutation tests: random byte and field corruption of MBR, EBR and GPT structures (with
 * CRCs left broken or recomputed, so both the fallback and the field checks are exercised).
 * readPartitionTable must always resolve with sane, bounded output, read only inside the disk and
 * read little.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Disk } from '../../disk/disk.ts';
import { readPartitionTable } from './partition-table.ts';
import type { PartitionTable } from './partition-table.ts';
import { buildGptImage, diskFromImage, fixGptCrcs, writeMbr } from './table-builder.ts';
import { formatPartitionTable } from './format-table.ts';

const LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';

function gptImage(ss: number, total: number): Uint8Array {
  return buildGptImage({
    sectorSize: ss,
    totalSectors: total,
    diskGuid: '01234567-89AB-CDEF-0123-456789ABCDEF',
    partitions: [0, 1, 5].map((slot, i) => ({
      slot,
      typeGuid: LINUX,
      partitionGuid: `11111111-2222-3333-4444-55555555555${i}`,
      first: 40 + i * 20,
      last: 55 + i * 20,
      name: `p${i}`,
    })),
  });
}

function mbrImage(): Uint8Array {
  const img = new Uint8Array(200 * 512);
  writeMbr(img, 512, 0, [{ status: 0x80, code: 0x83, start: 10, sectors: 20 }, { code: 0x05, start: 100, sectors: 100 }]);
  writeMbr(img, 512, 100, [{ code: 0x83, start: 1, sectors: 9 }, { code: 0x05, start: 10, sectors: 10 }]);
  writeMbr(img, 512, 110, [{ code: 0x82, start: 1, sectors: 9 }, { code: 0x05, start: 20, sectors: 10 }]);
  writeMbr(img, 512, 120, [{ code: 0x8e, start: 1, sectors: 9 }]);
  return img;
}

/** Wraps a disk to check that every read is in range and the total read stays small. */
function watched(disk: Disk): { disk: Disk; stats: { reads: number; bytes: number } } {
  const stats = { reads: 0, bytes: 0 };
  const read = disk.read.bind(disk);
  disk.read = async (lba, buf) => {
    stats.reads++;
    stats.bytes += buf.length;
    if (lba < 0 || lba + buf.length / disk.sectorSize > disk.sectorCount()) throw new Error(`out-of-range read at ${lba}`);
    await read(lba, buf);
  };
  return { disk, stats };
}

function checkSane(t: PartitionTable, disk: Disk, stats: { reads: number; bytes: number }): void {
  expect(['mbr', 'gpt', 'none']).toContain(t.scheme);
  expect(t.partitions.length).toBeLessThanOrEqual(t.scheme === 'mbr' ? 4 + 128 : 8192);
  for (const p of t.partitions) {
    expect(Number.isSafeInteger(p.startLba) && p.startLba >= 0).toBe(true);
    expect(Number.isSafeInteger(p.sectors) && p.sectors >= 1).toBe(true);
    expect(p.index).toBeGreaterThanOrEqual(1);
  }
  expect(t.warnings.every((w) => !w.includes('out-of-range read'))).toBe(true);
  expect(stats.reads).toBeLessThan(400);
  expect(stats.bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
  expect(typeof formatPartitionTable(t)).toBe('string');
  expect(t.sectorSize).toBe(disk.sectorSize);
}

const byteFlips = (regions: readonly [number, number][]) =>
  fc.array(
    fc.tuple(fc.integer({ min: 0, max: regions.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 })),
    { minLength: 1, maxLength: 6 },
  ).map((muts) => muts.map(([r, off, v]) => {
    const [start, len] = regions[r] ?? [0, 1];
    return [start + (off % len), v] as const;
  }));

// Header fields worth hitting with extreme values (offset, width in bytes).
const GPT_FIELDS: readonly [number, number][] = [[8, 4], [12, 4], [24, 8], [32, 8], [40, 8], [48, 8], [72, 8], [80, 4], [84, 4]];
const EXTREMES = [0, 1, 2, 33, 34, 127, 128, 129, 0x7fffffff, 0xffffffff, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64 - 1];

describe('partition table mutation', () => {
  for (const ss of [512, 4096]) {
    it(`GPT (${ss}-byte sectors): random byte flips, CRCs broken or fixed`, async () => {
      const total = ss === 512 ? 200 : 120;
      const base = gptImage(ss, total);
      const entrySectors = Math.ceil((128 * 128) / ss);
      const regions: [number, number][] = [[0, 512], [ss, 92], [2 * ss, 1024], [(total - 1) * ss, 92], [(total - 1 - entrySectors) * ss, 1024]];
      await fc.assert(
        fc.asyncProperty(byteFlips(regions), fc.boolean(), fc.boolean(), async (muts, fixPrimary, fixBackup) => {
          const img = base.slice();
          for (const [at, v] of muts) img[at] = v;
          if (fixPrimary) fixGptCrcs(img, ss, 1);
          if (fixBackup) fixGptCrcs(img, ss, total - 1);
          const { disk, stats } = watched(await diskFromImage(img, ss));
          checkSane(await readPartitionTable(disk), disk, stats);
        }),
        { seed: 0x9e3779b9 + ss, numRuns: 400 },
      );
    });
  }

  it('GPT: extreme header field values with valid CRCs', async () => {
    const total = 200;
    const base = gptImage(512, total);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...GPT_FIELDS), fc.constantFrom(...EXTREMES)), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(1, total - 1),
        async (edits, lba) => {
          const img = base.slice();
          const dv = new DataView(img.buffer, lba * 512, 512);
          for (const [[off, width], v] of edits) {
            if (width === 4) dv.setUint32(off, Number(BigInt(v) & 0xffffffffn), true);
            else dv.setBigUint64(off, BigInt(v) & 0xffffffffffffffffn, true);
          }
          fixGptCrcs(img, 512, lba);
          const { disk, stats } = watched(await diskFromImage(img, 512));
          checkSane(await readPartitionTable(disk), disk, stats);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('MBR/EBR: random byte flips in the MBR and the EBR chain', async () => {
    const base = mbrImage();
    const regions: [number, number][] = [[440, 72], [100 * 512 + 446, 66], [110 * 512 + 446, 66], [120 * 512 + 446, 66]];
    const intact = await readPartitionTable(await diskFromImage(base, 512));
    expect(intact.partitions.map((p) => p.index)).toEqual([1, 2, 5, 6, 7]);
    await fc.assert(
      fc.asyncProperty(byteFlips(regions), async (muts) => {
        const img = base.slice();
        for (const [at, v] of muts) img[at] = v;
        const { disk, stats } = watched(await diskFromImage(img, 512));
        const t = await readPartitionTable(disk);
        checkSane(t, disk, stats);
        // Flips that change nothing must give the intact result.
        if (muts.every(([at, v]) => base[at] === v)) expect(t).toEqual(intact);
      }),
      { seed: 7, numRuns: 400 },
    );
  });
});
