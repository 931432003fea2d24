/**
 * `openVhdDynamic`: opens a dynamic or differencing VHD from an `ImageFile`.
 *
 * - Dynamic: `{ kind: 'dynamic', disk }`, a Disk whose absent sectors read as zero.
 * - Differencing: `{ kind: 'differencing', layer, parentCandidates }`, the child as a Layer whose
 *   presence is per sector (bitmaps). With `resolveParent`, the whole chain is opened too:
 *   `layers` (child first, then each parent, the base last: a fixed base as a whole-disk
 *   DiskLayer, a dynamic base as a SparseDiskLayer that reports the blocks it really holds, see
 *   base-layer.ts) and `disk`, a LayeredDisk over them. Parents open read-only; only the child is
 *   writable (when asked and the file allows it). Every differencing layer's bitmaps are read at
 *   open, so its `bytesPresent` counts present sectors, as its `presence` does.
 *
 * Parent resolution: `resolveParent` gets the child's locator paths (see parent-locator.ts:
 * relative first, then absolute, then the bare parent name) and returns the parent's file. The
 * parent's footer unique id must equal the child's parent unique id, else CORRUPT_IMAGE (field
 * parentUniqueId) naming both ids; a different parent time stamp is only a warning (`warnings`).
 * Chains deeper than `maxChainDepth` (default 32) or that loop are CORRUPT_IMAGE. Any file opened
 * on the way is closed again if opening fails.
 */
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import type { Layer } from '../../layered/layer.ts';
import { DiskLayer } from '../../layered/disk-layer.ts';
import { vhdDynamicBaseLayer } from './base-layer.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import type { ImageFile } from '../image-file.ts';
import { formatUniqueId, vhdTimestampToDate } from './footer.ts';
import { readAnyVhdFooter } from './create-dynamic.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from './dynamic-disk.ts';
import { ImageFixedDisk } from './image-fixed-disk.ts';
import { readParentCandidates } from './parent-locator.ts';
import { VhdSparseImage } from './sparse-image.ts';

export interface VhdDynamicOpenOptions {
  readonly readOnly?: boolean;
  /** Returns the parent's file given candidate paths, best first (paths as written in the child). */
  readonly resolveParent?: (candidates: string[]) => Promise<ImageFile>;
  readonly maxChainDepth?: number;
}

export type VhdDynamicOpenResult =
  | { readonly kind: 'dynamic'; readonly disk: VhdDynamicDisk; readonly image: VhdSparseImage; readonly warnings: string[] }
  | {
      readonly kind: 'differencing';
      readonly layer: VhdDifferencingLayer;
      readonly image: VhdSparseImage;
      readonly parentCandidates: string[];
      /** Child first, base last; only the child when no resolveParent was given. */
      readonly layers: Layer[];
      /** The whole chain as one Disk; undefined when no resolveParent was given. */
      readonly disk: Disk | undefined;
      readonly warnings: string[];
    };

export async function openVhdDynamic(file: ImageFile, options: VhdDynamicOpenOptions = {}): Promise<VhdDynamicOpenResult> {
  const image = await VhdSparseImage.open(file, { readOnly: options.readOnly });
  const warnings = [...image.warnings];
  if (image.footer.diskType === 'dynamic') return { kind: 'dynamic', disk: new VhdDynamicDisk(image), image, warnings };
  const layer = new VhdDifferencingLayer(image);
  const opened: Layer[] = [layer];
  try {
    await image.loadPresentCounts();
    const parentCandidates = await readParentCandidates(file, image.header);
    if (!options.resolveParent) return { kind: 'differencing', layer, image, parentCandidates, layers: opened, disk: undefined, warnings };
    await openParents(image, parentCandidates, options.resolveParent, options.maxChainDepth ?? 32, opened, warnings);
    const disk = new LayeredDisk(opened.map((l) => ({ layer: l })), { readOnly: image.readOnly });
    return { kind: 'differencing', layer, image, parentCandidates, layers: opened, disk, warnings };
  } catch (e) {
    for (const l of opened) await l.close().catch(() => undefined);
    throw e;
  }
}

async function openParents(
  child: VhdSparseImage, candidates: string[], resolve: (c: string[]) => Promise<ImageFile>,
  maxDepth: number, opened: Layer[], warnings: string[],
): Promise<void> {
  const seen = new Set([formatUniqueId(child.footer.uniqueId)]);
  let current = child;
  let currentCandidates = candidates;
  for (let depth = 1; ; depth++) {
    if (depth > maxDepth) {
      throw new DiskError('CORRUPT_IMAGE', `${current.file.name}: the differencing chain is deeper than ${maxDepth} images`, { field: 'parentUniqueId' });
    }
    const parentFile = await resolve(currentCandidates);
    let footer;
    try {
      footer = await readAnyVhdFooter(parentFile);
      const expected = formatUniqueId(current.header.parentUniqueId);
      const actual = formatUniqueId(footer.uniqueId);
      if (expected !== actual) {
        throw new DiskError('CORRUPT_IMAGE', `${current.file.name}: parent ${parentFile.name} has unique id ${actual}, but the child expects parent unique id ${expected}`, { field: 'parentUniqueId' });
      }
      if (seen.has(actual)) throw new DiskError('CORRUPT_IMAGE', `${parentFile.name}: the differencing chain loops back to unique id ${actual}`, { field: 'parentUniqueId' });
      seen.add(actual);
      if (footer.timestamp !== current.header.parentTimestamp) {
        warnings.push(`${current.file.name}: parent time stamp ${vhdTimestampToDate(current.header.parentTimestamp).toISOString()} differs from ${parentFile.name}'s ${vhdTimestampToDate(footer.timestamp).toISOString()}; the parent may have changed since the child was made`);
      }
      if (footer.diskType === 'fixed') {
        opened.push(new DiskLayer(new ImageFixedDisk(parentFile, footer)));
        return;
      }
    } catch (e) {
      await parentFile.close().catch(() => undefined);
      throw e;
    }
    let image: VhdSparseImage;
    try {
      image = await VhdSparseImage.open(parentFile, { readOnly: true });
    } catch (e) {
      await parentFile.close().catch(() => undefined);
      throw e;
    }
    warnings.push(...image.warnings);
    try {
      if (image.footer.diskType === 'dynamic') {
        opened.push(await vhdDynamicBaseLayer(image));
        return;
      }
      await image.loadPresentCounts();
    } catch (e) {
      await parentFile.close().catch(() => undefined);
      throw e;
    }
    opened.push(new VhdDifferencingLayer(image));
    current = image;
    currentCandidates = await readParentCandidates(parentFile, image.header);
  }
}
