/**
 * `vhdxBaseLayer`: a VHDX without a parent as the base layer of a differencing VHDX chain,
 * reporting what the file really holds: FULLY_PRESENT blocks as `data`, ZERO/UNMAPPED/UNDEFINED
 * blocks as `zero` (the file records them), NOT_PRESENT blocks `absent` (see
 * layered/sparse-disk-layer.ts for why not `zero`). It pairs the image's VhdxDisk (what
 * `disklab map` and `info` look for inside a DiskLayer) with the same image as a VhdxLayer.
 * Reads through a LayeredDisk are byte-identical to the VhdxDisk's: absent sectors are
 * zero-filled below the base, as the disk fills them.
 *
 * Errors: INVALID_INPUT for an image that has a parent; the image's CORRUPT_IMAGE / IO.
 */
import { DiskError } from '../../disk/errors.ts';
import { SparseDiskLayer } from '../../layered/sparse-disk-layer.ts';
import { VhdxDisk, VhdxLayer } from './disk.ts';
import type { VhdxImage } from './image.ts';

export async function vhdxBaseLayer(image: VhdxImage): Promise<SparseDiskLayer> {
  if (image.hasParent) throw new DiskError('INVALID_INPUT', `${image.name}: a differencing VHDX is not a base image`);
  return new SparseDiskLayer(new VhdxDisk(image), await VhdxLayer.create(image));
}
