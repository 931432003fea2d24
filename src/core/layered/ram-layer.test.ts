import { describe, expect, it } from 'vitest';
import { maxSectorsFor } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { describeLayerConformance, readLayer } from '../testing/layer-conformance.ts';
import { expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { RamLayer } from './ram-layer.ts';

describeLayerConformance({
  name: 'RamLayer (8 KiB chunks)',
  kind: 'sparse',
  make: async ({ sectorSize, sectors, readOnly }) => new RamLayer({ sectorSize, sectors, readOnly, chunkBytes: 8192 }),
});

describeLayerConformance({
  name: 'RamLayer (one-sector chunks)',
  kind: 'sparse',
  sectorSizes: [512],
  make: async ({ sectorSize, sectors, readOnly }) => new RamLayer({ sectorSize, sectors, readOnly, chunkBytes: sectorSize }),
});

describe('RamLayer', () => {
  it('uses memory in proportion to data written, not to layer size', async () => {
    const layer = new RamLayer({ sectors: maxSectorsFor(512) }); // 2^53 bytes
    expect(layer.bytesAllocated()).toBe(0);
    await layer.write(2 ** 40, pattern(4096, 1));
    await layer.write(17, pattern(512, 2));
    expect(layer.bytesAllocated()).toBe(2 * 64 * 1024);
    expect(layer.bytesPresent()).toBe(4096 + 512);
  });

  it('drops data buffers once no data sector remains in a chunk, and whole-zero chunks cost no buffer', async () => {
    const layer = new RamLayer({ sectors: 1024, chunkBytes: 4096 }); // 8 sectors per chunk
    await layer.write(0, pattern(64 * 512, 3));
    expect(layer.bytesAllocated()).toBe(8 * 4096);
    await layer.unmap(4, 40, false); // chunks 1..4 become zero extents; 0 and 5 keep half their data
    expect(layer.bytesAllocated()).toBe(4 * 4096);
    await layer.unmap(0, 4, true);
    await layer.unmap(44, 4, true);
    expect(layer.bytesAllocated()).toBe(2 * 4096);
    expect(await layer.presence(0, 64)).toEqual([
      { lba: 4, count: 40, state: 'zero' },
      { lba: 48, count: 16, state: 'data' },
    ]);
  });

  it('turns zero extents back into detail when part of one is written or dropped', async () => {
    const layer = new RamLayer({ sectors: 256, chunkBytes: 4096 });
    await layer.unmap(0, 256, false);
    expect(layer.bytesAllocated()).toBe(0);
    await layer.write(9, pattern(512, 4));
    await layer.unmap(20, 2, true);
    expect(await layer.presence(0, 256)).toEqual([
      { lba: 0, count: 9, state: 'zero' },
      { lba: 9, count: 1, state: 'data' },
      { lba: 10, count: 10, state: 'zero' },
      { lba: 22, count: 234, state: 'zero' },
    ]);
    const { buf, marked } = await readLayer(layer, 8, 3);
    expect(marked.setCount).toBe(3);
    expectSameBytes(buf.subarray(512, 1024), pattern(512, 4));
  });

  it('rejects impossible parameters with a structured error', () => {
    expect(() => new RamLayer({ sectors: 10, sectorSize: 1000 })).toThrow(DiskConfigError);
    expect(() => new RamLayer({ sectors: -1 })).toThrow(DiskConfigError);
    expect(() => new RamLayer({ sectors: 10, chunkBytes: 3 * 4096 })).toThrow(DiskConfigError);
    expect(() => new RamLayer({ sectors: maxSectorsFor(512) + 1 })).toThrow(DiskConfigError);
    expect(() => new RamLayer({ sectors: 10, physicalSectorSize: 256 })).toThrow(DiskConfigError);
  });
});
