/**
 * `vhdDynamicBaseLayer`: a dynamic VHD (no parent) as the base layer of a chain — under a
 * differencing VHD, or under a qcow2 overlay — that reports the sectors the file really holds
 * (allocated blocks, per-sector bitmap bits) instead of the whole disk. It is a SparseDiskLayer
 * (layered/sparse-disk-layer.ts: why the rest is `absent`, not `zero`) pairing the image's
 * VhdDynamicDisk (what `disklab map` and `info` look for inside a DiskLayer) with the same image
 * as a VhdDifferencingLayer (per-sector presence, reads of the present sectors only). Reads
 * through a LayeredDisk are byte-identical to the VhdDynamicDisk's: it too reads only bitmap-set
 * sectors and zero-fills the rest.
 *
 * Every allocated block's bitmap is read here, so that `bytesPresent` agrees with `presence`.
 * Errors: INVALID_INPUT if the image is not a dynamic VHD; the image file's DiskErrors.
 */
import { DiskError } from '../../disk/errors.ts';
import { SparseDiskLayer } from '../../layered/sparse-disk-layer.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from './dynamic-disk.ts';
import type { VhdSparseImage } from './sparse-image.ts';

export async function vhdDynamicBaseLayer(image: VhdSparseImage): Promise<SparseDiskLayer> {
  if (image.footer.diskType !== 'dynamic') {
    throw new DiskError('INVALID_INPUT', `${image.file.name}: a ${image.footer.diskType} VHD is not a base image (only a dynamic one is)`);
  }
  await image.loadPresentCounts();
  return new SparseDiskLayer(new VhdDynamicDisk(image), new VhdDifferencingLayer(image));
}
