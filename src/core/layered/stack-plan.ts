/**
 * Validation of a layer stack and the disk-wide properties derived from it, kept apart from the
 * I/O code in layered-disk.ts. Rules follow OpenVMM's `LayeredDisk::new`, with two additions
 * (equal sizes along the write path, and no read cache on the bottom layer).
 *
 * Every problem is a `DiskConfigError` with `layerIndex` (top = 0) naming the layer at fault:
 * - NO_LAYERS: the list is empty.
 * - INVALID_PARAMETER (field `sectorSize`): a layer's sector size is not a power of two >= 512.
 * - SECTOR_SIZE_MISMATCH: a layer's sector size differs from the top layer's.
 * - USELESS_WRITE_THROUGH: write-through on the bottom layer (there is nothing to write through
 *   to), or on a layer whose upper neighbour is not write-through (writes never reach it).
 * - READ_ONLY_IN_WRITE_PATH: the disk is writable but a layer that writes reach is read-only.
 * - SIZE_MISMATCH: a layer on the write path below the top has a different size from the top.
 *   Writes land on every write-path layer, so a smaller one would fail them half-done and a
 *   larger one would hold sectors the disk cannot show. Layers below the write path may have
 *   any size: sectors beyond a layer's end (or beyond any layer above it) read as zero from it.
 * - INVALID_PARAMETER (field `readCache`): a read cache on the bottom layer, which nothing could
 *   ever fill.
 *
 * Derived metadata: readOnly if asked or if the top layer is; fuaRespected only if every
 * write-path layer respects FUA; optimalUnmapSectors the largest along the write path;
 * physicalSectorSize the largest of any layer (a read-modify-write anywhere in the stack is what
 * a guest should align to avoid); diskId the first one found from the top down (usually the base
 * image's, as in OpenVMM); unmapBehavior as `mergeUnmapBehavior` below explains.
 */
import type { UnmapBehavior } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { isPowerOfTwo } from '../disk/range.ts';
import type { Layer } from './layer.ts';

export interface LayerConfig {
  readonly layer: Layer;
  /** Sectors this layer lacks and finds below are written into it (write-no-overwrite). */
  readonly readCache?: boolean;
  /** Writes to this layer also go to the next layer down. */
  readonly writeThrough?: boolean;
}

export interface LayeredDiskOptions {
  /** Present the stack read-only even if the top layer is writable (as OpenVMM's `read_only`). */
  readonly readOnly?: boolean;
}

export interface StackPlan {
  /** Number of layers writes reach: the top plus the contiguous write-through chain below it. */
  readonly writePathLength: number;
  readonly readOnly: boolean;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  readonly optimalUnmapSectors: number;
  readonly diskId: Uint8Array | undefined;
  /** Per layer: sectors visible through every layer above (min of sizes from the top down to it). */
  readonly visible: number[];
}

export function planStack(configs: readonly LayerConfig[], options: LayeredDiskOptions = {}): StackPlan {
  const top = configs[0];
  if (!top) throw new DiskConfigError('NO_LAYERS', 'layers', 'a layered disk needs at least one layer');
  const last = configs.length - 1;
  const sectorSize = top.layer.sectorSize;

  for (const [i, { layer }] of configs.entries()) {
    if (!isPowerOfTwo(layer.sectorSize) || layer.sectorSize < 512) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectorSize', `layer ${i} (${layer.layerType}): sector size ${layer.sectorSize} is not a power of two >= 512`, { value: layer.sectorSize, layerIndex: i });
    }
    if (layer.sectorSize !== sectorSize) {
      throw new DiskConfigError('SECTOR_SIZE_MISMATCH', 'sectorSize', `layer ${i} (${layer.layerType}) has ${layer.sectorSize}-byte sectors; the top layer has ${sectorSize}`, { value: layer.sectorSize, layerIndex: i });
    }
  }

  let writePathLength = 1;
  while (writePathLength <= last && configs[writePathLength - 1]!.writeThrough) writePathLength++;
  for (const [i, config] of configs.entries()) {
    if (!config.writeThrough) continue;
    if (i === last) {
      throw new DiskConfigError('USELESS_WRITE_THROUGH', 'writeThrough', `layer ${i} (${config.layer.layerType}) is the bottom layer: there is nothing to write through to`, { layerIndex: i });
    }
    if (i >= writePathLength) {
      throw new DiskConfigError('USELESS_WRITE_THROUGH', 'writeThrough', `layer ${i} (${config.layer.layerType}) is write-through but writes never reach it: the layer above is not write-through`, { layerIndex: i });
    }
  }
  if (configs[last]!.readCache) {
    throw new DiskConfigError('INVALID_PARAMETER', 'readCache', `layer ${last} (${configs[last]!.layer.layerType}) is the bottom layer: a read cache there has nothing to cache`, { layerIndex: last });
  }

  const readOnly = (options.readOnly ?? false) || top.layer.readOnly;
  const topSize = top.layer.sectorCount();
  for (let i = 1; i < writePathLength; i++) {
    const layer = configs[i]!.layer;
    if (!readOnly && layer.readOnly) {
      throw new DiskConfigError('READ_ONLY_IN_WRITE_PATH', 'readOnly', `layer ${i} (${layer.layerType}) is read-only but writes to the disk reach it`, { layerIndex: i });
    }
    if (layer.sectorCount() !== topSize) {
      throw new DiskConfigError('SIZE_MISMATCH', 'sectorCount', `layer ${i} (${layer.layerType}) has ${layer.sectorCount()} sectors but is on the write path of a ${topSize}-sector top layer`, { value: layer.sectorCount(), layerIndex: i });
    }
  }

  const writePath = configs.slice(0, writePathLength).map((c) => c.layer);
  const visible: number[] = [];
  for (const [i, { layer }] of configs.entries()) visible.push(i === 0 ? topSize : Math.min(visible[i - 1]!, layer.sectorCount()));

  return {
    writePathLength,
    readOnly,
    sectorSize,
    physicalSectorSize: Math.max(...configs.map((c) => c.layer.physicalSectorSize)),
    fuaRespected: writePath.every((l) => l.fuaRespected),
    unmapBehavior: mergeUnmapBehavior(writePath),
    optimalUnmapSectors: Math.max(...writePath.map((l) => l.optimalUnmapSectors)),
    diskId: configs.find((c) => c.layer.diskId !== undefined)?.layer.diskId,
    visible,
  };
}

/**
 * The stack zeroes on unmap only if every write-path layer does. With write-through, a
 * layer that does not zero would leave the write-path layers disagreeing (and the disk would
 * change when a write-through layer is taken away), so unmap is then `ignored` and done
 * nowhere. With the top alone on the write path, the stack unmaps as the top layer does.
 */
function mergeUnmapBehavior(writePath: readonly Layer[]): UnmapBehavior {
  if (writePath.every((l) => l.unmapBehavior === 'zeroes')) return 'zeroes';
  if (writePath.length > 1) return 'ignored';
  return writePath[0]!.unmapBehavior;
}
