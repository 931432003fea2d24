import { describe, expect, it } from 'vitest';
import { readPartitionTable } from './partition-table.ts';
import { diskFromImage, writeMbr } from './table-builder.ts';
import { RamDisk } from '../../backends/ram-disk.ts';
import { formatPartitionTable } from './format-table.ts';

const SS = 512;

function image(sectors: number): Uint8Array {
  return new Uint8Array(sectors * SS);
}

describe('MBR', () => {
  it('reads primaries, the extended partition and its logical chain', async () => {
    const img = image(4000);
    writeMbr(img, SS, 0, [
      { status: 0x80, code: 0x0c, start: 64, sectors: 100 },
      { code: 0x05, start: 1000, sectors: 2000 },
      { code: 0x83, start: 200, sectors: 300 },
    ], 0xdeadbeef);
    // EBR chain: 1000 -> 1500 -> 1200 (links are relative to the extended start, logicals to their EBR)
    writeMbr(img, SS, 1000, [{ code: 0x83, start: 10, sectors: 100 }, { code: 0x05, start: 500, sectors: 300 }]);
    writeMbr(img, SS, 1500, [{ code: 0x82, start: 2, sectors: 50 }, { code: 0x05, start: 200, sectors: 100 }]);
    writeMbr(img, SS, 1200, [{ status: 0x80, code: 0x8e, start: 1, sectors: 99 }]);
    const t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.warnings).toEqual([]);
    expect(t.scheme).toBe('mbr');
    expect(t.diskSignature).toBe(0xdeadbeef);
    expect(t.partitions.map((p) => [p.index, p.type.kind === 'mbr' ? p.type.code : -1, p.startLba, p.sectors, p.bootable, p.logical])).toEqual([
      [1, 0x0c, 64, 100, true, false],
      [2, 0x05, 1000, 2000, false, false],
      [3, 0x83, 200, 300, false, false],
      [5, 0x83, 1010, 100, false, true],
      [6, 0x82, 1502, 50, false, true],
      [7, 0x8e, 1201, 99, true, true],
    ]);
    expect(t.partitions[0]?.type.name).toBe('W95 FAT32 (LBA)');
    const text = formatPartitionTable(t);
    expect(text).toContain('Disklabel type: dos');
    expect(text).toContain('Disk identifier: 0xdeadbeef');
    expect(text).toMatch(/^1\s+\*\s+64\s+163\s+100\s+50K\s+0c\s+W95 FAT32 \(LBA\)$/m);
    expect(text).toMatch(/^7\s+\*\s+1201\s+1299\s+99\s+49\.5K\s+8e\s+Linux LVM$/m);
  });

  it('stops an EBR chain that loops, with a warning', async () => {
    const img = image(4000);
    writeMbr(img, SS, 0, [{ code: 0x0f, start: 1000, sectors: 2000 }]);
    writeMbr(img, SS, 1000, [{ code: 0x83, start: 1, sectors: 10 }, { code: 0x05, start: 100, sectors: 20 }]);
    writeMbr(img, SS, 1100, [{ code: 0x83, start: 1, sectors: 10 }, { code: 0x05, start: 0, sectors: 20 }]);
    const t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.partitions.filter((p) => p.logical).map((p) => p.startLba)).toEqual([1001, 1101]);
    expect(t.warnings).toEqual(['EBR chain loops back to LBA 1000; chain ends there']);
  });

  it('bounds a long EBR chain at 128 logical partitions', async () => {
    const img = image(400);
    writeMbr(img, SS, 0, [{ code: 0x05, start: 100, sectors: 300 }]);
    for (let i = 0; i < 200; i++) {
      writeMbr(img, SS, 100 + i, [{ code: 0x83, start: 0, sectors: 1 }, { code: 0x05, start: i + 1, sectors: 1 }]);
    }
    const t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.partitions.filter((p) => p.logical)).toHaveLength(128);
    expect(t.partitions.at(-1)?.index).toBe(132);
    expect(t.warnings.join('\n')).toMatch(/more than 128 logical partitions/);
  });

  it('bounds a chain of EBRs that hold no partitions', async () => {
    const img = image(600);
    writeMbr(img, SS, 0, [{ code: 0x05, start: 100, sectors: 500 }]);
    for (let i = 0; i < 400; i++) writeMbr(img, SS, 100 + i, [{ code: 0, start: 0, sectors: 0 }, { code: 0x05, start: i + 1, sectors: 1 }]);
    const t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.partitions).toHaveLength(1);
    expect(t.warnings).toEqual(['EBR chain longer than 256 EBRs; the rest is ignored']);
  });

  it('ends the chain at an EBR outside the extended partition or without a signature', async () => {
    const img = image(4000);
    writeMbr(img, SS, 0, [{ code: 0x05, start: 1000, sectors: 100 }]);
    writeMbr(img, SS, 1000, [{ code: 0x83, start: 1, sectors: 10 }, { code: 0x05, start: 500, sectors: 20 }]);
    let t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.partitions).toHaveLength(2);
    expect(t.warnings.join('\n')).toMatch(/EBR at LBA 1500 lies outside extended partition 1/);
    writeMbr(img, SS, 1000, [{ code: 0x83, start: 1, sectors: 10 }, { code: 0x05, start: 50, sectors: 20 }]);
    t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.warnings.join('\n')).toMatch(/EBR at LBA 1050 has no 0x55AA signature/);
  });

  it('warns about partitions past the end, overlaps and bad boot flags, and keeps going', async () => {
    const img = image(1000);
    writeMbr(img, SS, 0, [
      { status: 0x12, code: 0x07, start: 10, sectors: 100 },
      { code: 0x83, start: 50, sectors: 2000 },
      { code: 0x83, start: 0, sectors: 5 },
      { code: 0x83, start: 5, sectors: 0 },
    ]);
    const t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.partitions.map((p) => p.index)).toEqual([1, 2]);
    expect(t.warnings).toEqual([
      'partition 1: invalid boot indicator 0x12',
      'partition 3: starts at LBA 0; ignored',
      'partition 4: has zero sectors; ignored',
      "partition 2: ends at LBA 2049, beyond the disk's last LBA 999",
      'partition 2 overlaps partition 1',
    ]);
  });

  it('reports no table for a blank disk, a disk without 0x55AA, and an empty disk', async () => {
    expect((await readPartitionTable(new RamDisk({ sectors: 100 }))).scheme).toBe('none');
    expect((await readPartitionTable(new RamDisk({ sectors: 0 }))).scheme).toBe('none');
    const img = image(10);
    writeMbr(img, SS, 0, [{ code: 0x83, start: 1, sectors: 5 }]);
    img[511] = 0;
    const t = await readPartitionTable(await diskFromImage(img, SS));
    expect(t.scheme).toBe('none');
    expect(t.warnings).toEqual([]);
    expect(formatPartitionTable(t)).toContain('Disklabel type: none');
  });

  it('uses logical sectors at 4096 bytes', async () => {
    const img = new Uint8Array(100 * 4096);
    writeMbr(img, 4096, 0, [{ code: 0x05, start: 10, sectors: 50 }]);
    writeMbr(img, 4096, 10, [{ code: 0x83, start: 2, sectors: 8 }]);
    const t = await readPartitionTable(await diskFromImage(img, 4096));
    expect(t.partitions.map((p) => [p.index, p.startLba, p.sectors])).toEqual([[1, 10, 50], [5, 12, 8]]);
    expect(formatPartitionTable(t)).toMatch(/^5\s+12\s+19\s+8\s+32K\s+83\s+Linux$/m);
  });

  it('turns a failing read into a warning', async () => {
    const disk = new RamDisk({ sectors: 10 });
    disk.read = () => Promise.reject(new Error('boom'));
    const t = await readPartitionTable(disk);
    expect(t.scheme).toBe('none');
    expect(t.warnings).toEqual(['MBR: cannot read LBA 0: boom']);
  });
});
