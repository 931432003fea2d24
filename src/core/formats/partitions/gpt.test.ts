import { describe, expect, it } from 'vitest';
import { readPartitionTable } from './partition-table.ts';
import { buildGptImage, diskFromImage, fixGptCrcs, fixHeaderCrc, writeMbr } from './table-builder.ts';
import type { GptSpec } from './table-builder.ts';
import { crc32 } from './crc32.ts';

const EFI = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const MSDATA = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';

function spec(sectorSize: number, totalSectors: number): GptSpec {
  return {
    sectorSize,
    totalSectors,
    diskGuid: '01234567-89AB-CDEF-0123-456789ABCDEF',
    partitions: [
      { slot: 0, typeGuid: EFI, partitionGuid: '11111111-2222-3333-4444-555555555555', first: 40, last: 99, name: 'EFI system', attributes: 4 },
      { slot: 2, typeGuid: LINUX, partitionGuid: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE', first: 100, last: 199, name: 'root ü€' },
      { slot: 3, typeGuid: '12345678-1234-1234-1234-123456789ABC', partitionGuid: 'AAAAAAAA-BBBB-CCCC-DDDD-000000000001', first: 200, last: 200 },
    ],
  };
}

describe('GPT', () => {
  it('computes the IEEE CRC-32 check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  for (const ss of [512, 4096]) {
    it(`reads a GPT at ${ss}-byte sectors`, async () => {
      const t = await readPartitionTable(await diskFromImage(buildGptImage(spec(ss, 300)), ss));
      expect(t.warnings).toEqual([]);
      expect(t.scheme).toBe('gpt');
      expect(t.sectorSize).toBe(ss);
      expect(t.diskGuid).toBe('01234567-89AB-CDEF-0123-456789ABCDEF');
      expect(t.gpt?.header).toBe('primary');
      expect(t.gpt?.alternateLba).toBe(299);
      expect(t.partitions.map((p) => [p.index, p.startLba, p.sectors, p.name, p.type.name, p.bootable])).toEqual([
        [1, 40, 60, 'EFI system', 'EFI System', true],
        [3, 100, 100, 'root ü€', 'Linux filesystem', false],
        [4, 200, 1, '', undefined, false],
      ]);
      expect(t.partitions[0]?.partitionGuid).toBe('11111111-2222-3333-4444-555555555555');
      expect(t.partitions[0]?.attributes).toBe('0000000000000004');
      expect(t.partitions[1]?.type).toEqual({ kind: 'gpt', guid: LINUX, name: 'Linux filesystem' });
    });
  }

  it('falls back to the backup header when the primary header CRC is wrong', async () => {
    const img = buildGptImage(spec(512, 300));
    img[512 + 16] = (img[512 + 16] ?? 0) ^ 1;
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.scheme).toBe('gpt');
    expect(t.gpt?.header).toBe('backup');
    expect(t.gpt?.headerLba).toBe(299);
    expect(t.partitions.map((p) => p.startLba)).toEqual([40, 100, 200]);
    expect(t.warnings.join('\n')).toMatch(/primary GPT header at LBA 1: header CRC32 mismatch/);
    expect(t.warnings.join('\n')).toMatch(/using the backup GPT at LBA 299/);
  });

  it('falls back to the backup when the primary entry array CRC is wrong (4096-byte sectors)', async () => {
    const img = buildGptImage({ ...spec(4096, 300), partitions: [{ ...spec(4096, 300).partitions[0]!, first: 10, last: 20 }] });
    img[2 * 4096 + 40] = 0x7f; // primary entry 0's first LBA, now wrong and CRC-mismatched
    const t = await readPartitionTable(await diskFromImage(img, 4096));
    expect(t.gpt?.header).toBe('backup');
    expect(t.partitions.map((p) => [p.startLba, p.sectors])).toEqual([[10, 11]]);
    expect(t.warnings.join('\n')).toMatch(/primary GPT entry array CRC32 mismatch/);
  });

  it('returns scheme gpt with no partitions and warnings when both headers are bad', async () => {
    const img = buildGptImage(spec(512, 300));
    img[512] = 0;
    img[299 * 512] = 0;
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.scheme).toBe('gpt');
    expect(t.partitions).toEqual([]);
    expect(t.warnings.join('\n')).toMatch(/no usable GPT header/);
  });

  it('warns when the backup is damaged but the primary is fine', async () => {
    const img = buildGptImage(spec(512, 300));
    img[299 * 512 + 60] = (img[299 * 512 + 60] ?? 0) ^ 0xff;
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.gpt?.header).toBe('primary');
    expect(t.partitions).toHaveLength(3);
    expect(t.warnings.join('\n')).toMatch(/backup GPT is damaged/);
  });

  it('rejects an oversized entry array without allocating it', async () => {
    const img = buildGptImage(spec(512, 300));
    new DataView(img.buffer).setUint32(512 + 80, 0x100000, true); // 1 Mi entries x 128 bytes
    fixHeaderCrc(img, 512, 1);
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.gpt?.header).toBe('backup');
    expect(t.warnings.join('\n')).toMatch(/entry array 1048576 x 128 bytes exceeds/);
  });

  it('flags partitions outside the usable range, beyond the disk, inverted or overlapping', async () => {
    const img = buildGptImage({
      ...spec(512, 300),
      partitions: [
        { slot: 0, typeGuid: MSDATA, partitionGuid: '11111111-2222-3333-4444-555555555555', first: 10, last: 50 },
        { slot: 1, typeGuid: MSDATA, partitionGuid: '11111111-2222-3333-4444-555555555556', first: 45, last: 400 },
        { slot: 2, typeGuid: MSDATA, partitionGuid: '11111111-2222-3333-4444-555555555557', first: 90, last: 80 },
      ],
    });
    const t = await readPartitionTable(await diskFromImage(img, 512));
    const w = t.warnings.join('\n');
    expect(t.partitions.map((p) => p.index)).toEqual([1, 2]);
    expect(w).toMatch(/partition 1: LBAs 10-50 are outside the usable range 34-266/);
    expect(w).toMatch(/partition 2: ends at LBA 400, beyond/);
    expect(w).toMatch(/partition 3: invalid LBA range/);
    expect(w).toMatch(/partition 2 overlaps partition 1/);
  });

  it('finds a GPT without a protective MBR, with a warning', async () => {
    const img = buildGptImage(spec(512, 300));
    img.fill(0, 0, 512);
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.scheme).toBe('gpt');
    expect(t.warnings).toEqual(['GPT found without a protective MBR']);
  });

  it('uses a CRC-valid edited header (fixGptCrcs) and honours the new fields', async () => {
    const img = buildGptImage(spec(512, 300));
    new DataView(img.buffer).setUint32(512 + 80, 1, true); // only the first entry now
    fixGptCrcs(img, 512, 1);
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.partitions.map((p) => p.index)).toEqual([1]);
    expect(t.warnings).toEqual(['backup GPT does not match the primary']);
  });

  it('trusts a plain MBR over a stray GPT header', async () => {
    const img = buildGptImage(spec(512, 300));
    writeMbr(img, 512, 0, [{ code: 0x83, start: 2048 % 300, sectors: 10 }]);
    const t = await readPartitionTable(await diskFromImage(img, 512));
    expect(t.scheme).toBe('mbr');
  });
});
