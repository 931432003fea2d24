/**
 * The shared Disk conformance suite over VHDX. VHDX is read-only, so the writable disk under
 * test is a LayeredDisk with a RamLayer on top of the VHDX (as a DiskLayer) -- and, for the
 * differencing reader, on top of an empty differencing VHDX over its base.
 */
import { LayeredDisk } from '../../layered/layered-disk.ts';
import { DiskLayer } from '../../layered/disk-layer.ts';
import { RamLayer } from '../../layered/ram-layer.ts';
import { describeDiskConformance } from '../../testing/disk-conformance.ts';
import { VhdxDisk, VhdxLayer } from './disk.ts';
import { VhdxImage } from './image.ts';
import { buildVhdx, memoryImageFile } from './testing/builder.ts';

const TiB = 1024 ** 4;
const blockSizeFor = (bytes: number) => (bytes > TiB ? 256 * 1024 * 1024 : 1024 * 1024);

async function base(sectorSize: number, sectors: number): Promise<VhdxDisk> {
  const virtualSize = sectors * sectorSize;
  const built = buildVhdx({ virtualSize, blockSize: blockSizeFor(virtualSize), logicalSectorSize: sectorSize, physicalSectorSize: sectorSize });
  return new VhdxDisk(await VhdxImage.open(memoryImageFile(built.bytes)));
}

describeDiskConformance({
  name: 'VHDX (RamLayer over a VhdxDisk)',
  maxSectors: (ss) => (64 * TiB) / ss,
  make: async ({ sectorSize, sectors, readOnly }) =>
    new LayeredDisk([{ layer: new RamLayer({ sectors, sectorSize }) }, { layer: new DiskLayer(await base(sectorSize, sectors)) }], { readOnly }),
});

describeDiskConformance({
  name: 'VHDX (RamLayer over an empty differencing VhdxLayer over a VhdxDisk)',
  maxSectors: (ss) => (64 * TiB) / ss,
  make: async ({ sectorSize, sectors, readOnly }) => {
    const virtualSize = sectors * sectorSize;
    const child = buildVhdx({
      virtualSize,
      blockSize: blockSizeFor(virtualSize),
      logicalSectorSize: sectorSize,
      parent: new Map([['parent_linkage', '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}']]),
    });
    const layer = await VhdxLayer.create(await VhdxImage.open(memoryImageFile(child.bytes)));
    return new LayeredDisk(
      [{ layer: new RamLayer({ sectors, sectorSize }) }, { layer }, { layer: new DiskLayer(await base(sectorSize, sectors)) }],
      { readOnly },
    );
  },
});
