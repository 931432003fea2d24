/**
 * Entry points for VHDX images (read-only).
 *
 * - `openVhdx(file, options)`: a Disk. A VHDX without a parent (dynamic or fixed) opens as a
 *   `VhdxDisk`. A differencing VHDX needs `options.resolveParent`, which is given the child's
 *   parent locator (key/value entries: parent_linkage, relative_path, absolute_win32_path,
 *   volume_path, ...) and returns the parent's ImageFile; the chain is followed to a disk
 *   without a parent and returned as a read-only LayeredDisk, top (the file opened) first. The
 *   base is a SparseDiskLayer (base-layer.ts), so it reports the blocks it really holds.
 *   Without a resolver, a differencing image is UNSUPPORTED with a message saying so.
 * - `openVhdxLayer(file, options)`: the pieces, for a caller that stacks the chain itself: the
 *   parsed image, a `VhdxLayer` (differencing) or `VhdxDisk` (no parent) and the locator.
 *
 * Parent identity: the parent's current header DataWriteGuid must equal the child's
 * parent_linkage (or parent_linkage2), else CORRUPT_IMAGE (field 'parent_linkage'); chains
 * deeper than 64 or looping are CORRUPT_IMAGE too; parents with another logical sector size are
 * CORRUPT_IMAGE (field 'logicalSectorSize'). Asking for a writable VHDX is UNSUPPORTED.
 * Ownership: the returned disk owns `file` and every parent file (closing it closes them all);
 * on failure the parent files already opened are closed and `file` is left to the caller.
 */
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import type { Layer } from '../../layered/layer.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import type { ImageFile } from '../image-file.ts';
import { vhdxBaseLayer } from './base-layer.ts';
import { VhdxDisk, VhdxLayer } from './disk.ts';
import { guidBytes, guidEqual, guidText } from './guid.ts';
import { VhdxImage } from './image.ts';
import type { VhdxParentLocator } from './metadata.ts';

const MAX_CHAIN = 64;

export interface VhdxOpenOptions {
  /** Must be true or absent: VHDX is read-only for now. */
  readonly readOnly?: boolean;
  /** For messages: defaults to the file's name. */
  readonly name?: string;
  /** Finds the parent of a differencing VHDX from its locator; `child` is the image naming it. */
  readonly resolveParent?: (locator: VhdxParentLocator, child: VhdxImage) => Promise<ImageFile>;
}

export type VhdxPiece =
  | { readonly kind: 'disk'; readonly image: VhdxImage; readonly disk: VhdxDisk }
  | { readonly kind: 'differencing'; readonly image: VhdxImage; readonly layer: VhdxLayer; readonly parentLocator: VhdxParentLocator };

function checkReadOnly(options: VhdxOpenOptions, name: string): void {
  if (options.readOnly === false) throw new DiskError('UNSUPPORTED', `${name}: writing VHDX images is not supported yet; open it read-only`);
}

export async function openVhdxLayer(file: ImageFile, options: VhdxOpenOptions = {}): Promise<VhdxPiece> {
  const name = options.name ?? file.name;
  checkReadOnly(options, name);
  const image = await VhdxImage.open(file, name);
  if (!image.hasParent) return { kind: 'disk', image, disk: new VhdxDisk(image) };
  return { kind: 'differencing', image, layer: await VhdxLayer.create(image), parentLocator: image.metadata.parentLocator! };
}

/** True when `parent` is the image `locator` was linked to. */
export function parentMatches(locator: VhdxParentLocator, parent: VhdxImage): boolean {
  for (const key of ['parent_linkage', 'parent_linkage2']) {
    const text = locator.entries.get(key);
    if (text === undefined) continue;
    try {
      if (guidEqual(guidBytes(text), parent.header.dataWriteGuid)) return true;
    } catch {
      // Not a GUID: it matches nothing.
    }
  }
  return false;
}

export async function openVhdx(file: ImageFile, options: VhdxOpenOptions = {}): Promise<Disk> {
  const top = await openVhdxLayer(file, options);
  if (top.kind === 'disk') return top.disk;
  const resolve = options.resolveParent;
  const layers: Layer[] = [top.layer];
  // On failure, close the parents we opened; the caller's own file stays theirs to close.
  const closeParents = async (): Promise<void> => {
    for (const l of layers.slice(1)) await l.close().catch(() => {});
  };
  try {
    if (!resolve) {
      throw new DiskError('UNSUPPORTED', `${top.image.name}: this is a differencing VHDX; opening it needs its parent (parent_linkage ${top.parentLocator.entries.get('parent_linkage')}), and no parent resolver was given`);
    }
    let child: VhdxPiece = top;
    for (;;) {
      if (child.kind === 'disk') break;
      if (layers.length > MAX_CHAIN) throw new DiskError('CORRUPT_IMAGE', `${top.image.name}: VHDX parent chain is deeper than ${MAX_CHAIN}`, { field: 'parent_linkage' });
      const parentFile = await resolve(child.parentLocator, child.image);
      let parent: VhdxPiece;
      try {
        parent = await openVhdxLayer(parentFile, {});
      } catch (e) {
        await parentFile.close().catch(() => {});
        throw e;
      }
      let pieceLayer: Layer;
      try {
        pieceLayer = parent.kind === 'disk' ? await vhdxBaseLayer(parent.image) : parent.layer;
      } catch (e) {
        await parentFile.close().catch(() => {});
        throw e;
      }
      layers.push(pieceLayer);
      if (!parentMatches(child.parentLocator, parent.image)) {
        throw new DiskError(
          'CORRUPT_IMAGE',
          `${child.image.name}: parent ${parent.image.name} is not the image it was made from (parent_linkage ${child.parentLocator.entries.get('parent_linkage')}, parent DataWriteGuid {${guidText(parent.image.header.dataWriteGuid)}})`,
          { field: 'parent_linkage' },
        );
      }
      if (parent.image.metadata.logicalSectorSize !== child.image.metadata.logicalSectorSize) {
        throw new DiskError('CORRUPT_IMAGE', `${child.image.name}: parent ${parent.image.name} has ${parent.image.metadata.logicalSectorSize}-byte sectors, the child ${child.image.metadata.logicalSectorSize}`, { field: 'logicalSectorSize' });
      }
      child = parent;
    }
    return new LayeredDisk(layers.map((layer) => ({ layer })), { readOnly: true });
  } catch (e) {
    await closeParents();
    throw e;
  }
}
