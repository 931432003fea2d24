// A stand-alone dynamic VHD opened for the page is a one-layer LayeredDisk whose layer holds
// exactly the sectors written, and reads the same bytes; flat disks stay opaque.
import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { fileLayers } from './file-layers.ts';
import { createVhdDynamic } from './vhd/create-dynamic.ts';
import { VhdDynamicDisk } from './vhd/dynamic-disk.ts';
import { MemoryImageFile } from './vhd/memory-image-file.ts';

const SECTORS = 256;

describe('fileLayers', () => {
  it('shows a stand-alone dynamic VHD as one layer holding only its written sectors', async () => {
    const file = new MemoryImageFile('alone.vhd');
    const disk = new VhdDynamicDisk(await createVhdDynamic(file, SECTORS * 512, { blockSize: 4096 }));
    await disk.write(16, pattern(3 * 512, 5));
    await disk.write(200, pattern(512, 6));
    const view = await fileLayers(disk);
    expect(view).toBeInstanceOf(LayeredDisk);
    const runs = await view!.presence(0, 0, SECTORS);
    expect(runs.filter((r) => r.state === 'data').map((r) => [r.lba, r.count])).toEqual([[16, 3], [200, 1]]);
    const a = new Uint8Array(SECTORS * 512);
    const b = new Uint8Array(SECTORS * 512);
    await disk.read(0, a);
    await view!.read(0, b);
    expectSameBytes(b, a);
  });

  it('leaves flat disks as they are', async () => {
    expect(await fileLayers(new RamDisk({ sectors: 8 }))).toBeUndefined();
  });
});
