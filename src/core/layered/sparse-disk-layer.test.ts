import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { describeLayerConformance, readLayer } from '../testing/layer-conformance.ts';
import { expectDiskError, pattern } from '../testing/disk-conformance.ts';
import { DiskLayer } from './disk-layer.ts';
import { LayeredDisk } from './layered-disk.ts';
import { RamLayer } from './ram-layer.ts';
import { SparseDiskLayer } from './sparse-disk-layer.ts';

/** RamDisk and RamLayer can resize; a SparseDiskLayer pairs only fixed-size faces, so hide it. */
function fixedSize<T extends object>(x: T): T {
  Object.defineProperty(x, 'resize', { value: undefined });
  return x;
}

function pair(sectors: number, sectorSize = 512, readOnly = false): { disk: RamDisk; view: RamLayer; layer: SparseDiskLayer } {
  const disk = fixedSize(new RamDisk({ sectors, sectorSize, readOnly }));
  const view = fixedSize(new RamLayer({ sectors, sectorSize, readOnly, chunkBytes: 8192 }));
  return { disk, view, layer: new SparseDiskLayer(disk, view) };
}

// Every Layer call goes to the view, so the pair conforms as its view (a sparse RamLayer) does.
describeLayerConformance({
  name: 'SparseDiskLayer over a RamLayer view',
  kind: 'sparse',
  make: async ({ sectorSize, sectors, readOnly }) => pair(sectors, sectorSize, readOnly).layer,
});

describe('SparseDiskLayer', () => {
  it('is a DiskLayer named after its disk, with presence, reads and counts from its view', async () => {
    const { disk, view, layer } = pair(64);
    await view.write(8, pattern(4 * 512, 1));
    await disk.write(0, pattern(64 * 512, 2)); // the disk is never read through the layer
    expect(layer).toBeInstanceOf(DiskLayer);
    expect(layer.layerType).toBe('disk:ram');
    expect(layer.disk).toBe(disk);
    expect(await layer.presence(0, 64)).toEqual([{ lba: 8, count: 4, state: 'data' }]);
    expect(layer.bytesPresent()).toBe(4 * 512);
    const { marked } = await readLayer(layer, 0, 64);
    expect(marked.setCount).toBe(4);
    expect(Array.from(await layer.occupancyMap(4))).toEqual([0.25, 0, 0, 0]);
  });

  it('as the bottom of a stack, leaves what it does not hold to read as zero and unattributed', async () => {
    const { view, layer } = pair(64);
    await view.write(8, pattern(4 * 512, 1));
    const stack = new LayeredDisk([{ layer: new RamLayer({ sectors: 64 }) }, { layer }]);
    const buf = new Uint8Array(64 * 512).fill(0xee);
    await stack.read(0, buf);
    expect(buf.subarray(0, 8 * 512).every((b) => b === 0)).toBe(true);
    expect(buf.subarray(8 * 512, 12 * 512)).toEqual(pattern(4 * 512, 1));
    expect(stack.readStats().servedSectors).toEqual([0, 4]);
    expect(stack.readStats().zeroFilledSectors).toBe(60);
  });

  it('closes the view only (it shares the disk’s file)', async () => {
    const { disk, view, layer } = pair(8);
    let viewClosed = 0;
    let diskClosed = 0;
    view.close = async () => void viewClosed++;
    disk.close = async () => void diskClosed++;
    await layer.close();
    expect([viewClosed, diskClosed]).toEqual([1, 0]);
  });

  it('wraps non-DiskError failures of the view as IO', async () => {
    const { view, layer } = pair(8);
    view.presence = async () => {
      throw new Error('boom');
    };
    const err = await expectDiskError(layer.presence(0, 8), 'IO');
    expect(err.message).toContain('boom');
  });

  it('refuses a view that is not the same image as the disk', () => {
    const disk = fixedSize(new RamDisk({ sectors: 16 }));
    const bad = [
      fixedSize(new RamLayer({ sectors: 17 })),
      fixedSize(new RamLayer({ sectors: 2, sectorSize: 4096 })),
      fixedSize(new RamLayer({ sectors: 16, readOnly: true })),
      new RamLayer({ sectors: 16 }), // resizable
    ];
    for (const view of bad) expect(() => new SparseDiskLayer(disk, view)).toThrow(DiskConfigError);
  });
});
