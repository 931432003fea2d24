/**
 * `fileLayers`: an opened image as the layers of the files it is made of, so the page can show
 * which blocks each file holds. A chain (differencing VHD/VHDX, qcow2 with backing files) is
 * already a LayeredDisk of its files; a stand-alone sparse image (dynamic VHD, VHDX without a
 * parent) becomes a one-layer LayeredDisk whose layer reports the blocks the file really
 * allocates, and reads byte-identically to the image itself (vhd/base-layer.ts, vhdx/base-layer.ts).
 * Flat images (raw, fixed VHD) hold every sector: they answer undefined and stay one opaque disk.
 *
 * Read-only: the view is for images the page opened read-only (a dropped file or a URL).
 * Errors: the image file's DiskErrors while its allocation metadata is read.
 */
import type { Disk } from '../disk/disk.ts';
import { innerDisk } from '../disk/open-disk.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { vhdDynamicBaseLayer } from './vhd/base-layer.ts';
import { VhdDynamicDisk } from './vhd/dynamic-disk.ts';
import { vhdxBaseLayer } from './vhdx/base-layer.ts';
import { VhdxDisk } from './vhdx/disk.ts';

export async function fileLayers(disk: Disk): Promise<LayeredDisk | undefined> {
  const inner = innerDisk(disk);
  if (inner instanceof LayeredDisk) return inner;
  if (inner instanceof VhdDynamicDisk && inner.image.footer.diskType === 'dynamic') {
    return new LayeredDisk([{ layer: await vhdDynamicBaseLayer(inner.image) }], { readOnly: true });
  }
  if (inner instanceof VhdxDisk && !inner.image.hasParent) {
    return new LayeredDisk([{ layer: await vhdxBaseLayer(inner.image) }], { readOnly: true });
  }
  return undefined;
}
