import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { describeLayerConformance, readLayer } from '../testing/layer-conformance.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { DiskLayer } from './disk-layer.ts';

describeLayerConformance({
  name: 'DiskLayer over RamDisk',
  kind: 'full',
  make: async ({ sectorSize, sectors, readOnly }) => new DiskLayer(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 })),
});

describe('DiskLayer', () => {
  it('follows the disk’s metadata', () => {
    const disk = new RamDisk({ sectors: 100, sectorSize: 4096, readOnly: true });
    const layer = new DiskLayer(disk);
    expect(layer.layerType).toBe('disk:ram');
    expect(layer.readOnly).toBe(true);
    expect(layer.sectorSize).toBe(4096);
    expect(layer.unmapBehavior).toBe('zeroes');
    expect(layer.bytesPresent()).toBe(100 * 4096);
  });

  it('never writes the disk for a no-overwrite fill, even when the disk is writable', async () => {
    const disk = new RamDisk({ sectors: 16 });
    await disk.write(0, pattern(16 * 512, 1));
    const layer = new DiskLayer(disk);
    await layer.write(2, pattern(4 * 512, 2), { noOverwrite: true });
    expectSameBytes((await readLayer(layer, 0, 16)).buf, pattern(16 * 512, 1));
  });

  it('wraps non-DiskError failures of the disk as IO', async () => {
    const disk = new RamDisk({ sectors: 16 });
    disk.flush = async () => {
      throw new Error('boom');
    };
    const err = await expectDiskError(new DiskLayer(disk).flush(), 'IO');
    expect(err.message).toContain('boom');
  });
});
