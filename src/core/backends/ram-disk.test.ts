import { describe, expect, it } from 'vitest';
import { RamDisk } from './ram-disk.ts';
import { describeDiskConformance, pattern } from '../testing/disk-conformance.ts';
import { DiskConfigError } from '../disk/errors.ts';

describeDiskConformance({
  name: 'RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) => new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 }),
});

describe('RamDisk', () => {
  it('uses memory in proportion to data written, not to disk size', async () => {
    const disk = new RamDisk({ sectors: 2 ** 40 }); // 512 TiB
    expect(disk.bytesAllocated()).toBe(0);
    await disk.write(2 ** 39, pattern(4096, 1));
    await disk.write(17, pattern(512, 2));
    expect(disk.bytesAllocated()).toBe(2 * 64 * 1024);
  });

  it('frees whole chunks on unmap', async () => {
    const disk = new RamDisk({ sectors: 1024, chunkBytes: 4096 });
    await disk.write(0, pattern(64 * 512, 3));
    expect(disk.bytesAllocated()).toBe(8 * 4096);
    await disk.unmap(4, 40); // frees chunks 1..4 fully, zeroes part of 0 and 5
    expect(disk.bytesAllocated()).toBe(4 * 4096);
  });

  it('unmaps and shrinks a huge disk by visiting only allocated chunks', async () => {
    const sectors = Math.floor(Number.MAX_SAFE_INTEGER / 512);
    const disk = new RamDisk({ sectors });
    await disk.write(5, pattern(512, 1));
    await disk.write(sectors - 1, pattern(512, 2));
    await disk.unmap(1, sectors - 2); // keeps sector 0 and the last sector
    expect(disk.bytesAllocated()).toBe(2 * 64 * 1024);
    const buf = new Uint8Array(512);
    await disk.read(5, buf);
    expect(buf.every((b) => b === 0)).toBe(true);
    await disk.read(sectors - 1, buf);
    expect(buf).toEqual(pattern(512, 2));
    await disk.resize(100);
    expect(disk.bytesAllocated()).toBe(64 * 1024);
  });

  it('rejects impossible parameters with a structured error', () => {
    expect(() => new RamDisk({ sectors: 10, sectorSize: 1000 })).toThrow(DiskConfigError);
    expect(() => new RamDisk({ sectors: -1 })).toThrow(DiskConfigError);
  });
});
