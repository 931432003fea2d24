/**
 * Extents for `disklab map`, computed as qemu-img map computes them: for every guest range, the
 * topmost file of the chain (depth 0 = the image itself) that holds it, whether it holds data or
 * a zero record, and where in that file the bytes are (`offset`).
 *
 * Per file, `fileAllocation` reads the format's own allocation metadata (never the data):
 * - raw / fixed VHD (alone, as the base of a VHD chain, or as a qcow2 image's backing file): one
 *   data run, offset = guest offset (no hole detection: see map.ts);
 * - dynamic VHD: data sectors (BAT entry -> block offset + bitmap size + sector in block, the
 *   bitmap saying which sectors are present); everything else is a zero record, present, as
 *   QEMU's vpc driver reports unallocated blocks of a disk without a parent;
 * - differencing VHD: the bitmap's present sectors with their offsets; the rest is not here;
 * - VHDX: FULLY_PRESENT blocks and the set bits of PARTIALLY_PRESENT blocks are data at the BAT
 *   payload offset; ZERO/UNMAPPED/UNDEFINED are zero records; NOT_PRESENT is not here;
 * - qcow2: the L2 entries (allocation-map.ts); compressed clusters are data with no offset,
 *   zero clusters that keep their host cluster are zero with an offset, and unallocated
 *   subclusters of an allocated cluster are not here but keep their offset, as qemu prints them.
 *   The qcow2 layer keeps its tables to itself, so each qcow2 file is reopened read-only by path
 *   (or by URL, through its own range source).
 * Sizes are each file's own: a backing file shorter than its overlay matters (below).
 *
 * `chainExtents` then walks the chain like qemu-img's get_block_status: a range no file above
 * holds is asked of the next file down; a range no file holds is `present: false, zero: true`
 * at the depth of the file whose backing file is shorter than the range's start or that has no
 * backing file (QEMU's rule, so an overlay larger than its backing reports its tail at depth 0).
 * Neighbouring ranges merge only when every field is equal and their offsets continue, as in
 * qemu-img's entry_mergeable, so the boundaries are qemu's.
 *
 * Errors: what the format readers throw (CORRUPT_IMAGE naming the field, IO); a layer of a kind
 * this module does not know is UNSUPPORTED.
 */
import { innerDisk } from '../core/disk/open-disk.ts';
import type { Disk } from '../core/disk/disk.ts';
import { DiskError } from '../core/disk/errors.ts';
import { imageFileFromRange, imageFileFromSync } from '../core/formats/image-file.ts';
import { HttpRangeSource } from '../core/http/http-range-source.ts';
import { nodeHttpFetch } from '../node/node-http-fetch.ts';
import { isHttpUrl } from '../node/open-url.ts';
import { Qcow2AllocationMap } from '../core/formats/qcow2/allocation-map.ts';
import { Qcow2Layer } from '../core/formats/qcow2/qcow2-layer.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from '../core/formats/vhd/dynamic-disk.ts';
import { ImageFixedDisk } from '../core/formats/vhd/image-fixed-disk.ts';
import type { VhdSparseImage } from '../core/formats/vhd/sparse-image.ts';
import { VhdxDisk, VhdxLayer } from '../core/formats/vhdx/disk.ts';
import { BLOCK_STATE, type VhdxImage } from '../core/formats/vhdx/image.ts';
import { DiskLayer } from '../core/layered/disk-layer.ts';
import { LayeredDisk } from '../core/layered/layered-disk.ts';
import { NodeSyncFile } from '../node/node-sync-file.ts';
import type { OpenedImage } from '../node/open-image.ts';

/**
 * One run a file holds, in guest bytes. Ranges between runs are not in the file; an 'absent' run
 * is not in the file either but has a host offset QEMU reports (qcow2 UNALLOCATED_ALLOC).
 */
export interface AllocationRun {
  readonly start: number;
  readonly length: number;
  readonly state: 'data' | 'zero' | 'absent';
  /** Host byte offset of `start` in the file, when the bytes have one. */
  readonly offset?: number;
}

export interface FileAllocation {
  /** Guest bytes the file covers (its own virtual size). */
  readonly size: number;
  /** Sorted, non-overlapping. */
  readonly runs: readonly AllocationRun[];
}

export interface MapExtent {
  readonly start: number;
  readonly length: number;
  readonly depth: number;
  readonly present: boolean;
  readonly zero: boolean;
  readonly data: boolean;
  readonly offset?: number;
}

/** The per-file pieces of an opened image, top first: layers of a chain, or the one disk. */
export function chainParts(image: OpenedImage): unknown[] {
  if (image.structured === undefined) return [innerDisk(image.disk)];
  let disk: Disk = image.structured.disk;
  for (let d = innerDisk(disk); d !== disk; d = innerDisk(disk)) disk = d;
  const parts: unknown[] = disk instanceof LayeredDisk ? disk.layerInfo().map((l) => l.layer) : [disk];
  return parts.map((p) => (p instanceof DiskLayer ? innerDisk(p.disk) : p));
}

/** The file behind one piece of a chain, as it was opened (the top: the path given). */
export function partFileName(part: unknown): string | undefined {
  if (part instanceof VhdDynamicDisk || part instanceof VhdDifferencingLayer) return part.image.file.name;
  if (part instanceof VhdxDisk || part instanceof VhdxLayer) return part.image.name;
  if (part instanceof ImageFixedDisk) return part.file.name;
  if (part instanceof Qcow2Layer) return part.name;
  // Other base disks (a qcow2 image's raw backing file) keep their ImageFile as `file`.
  const name = (part as { file?: { name?: unknown } }).file?.name;
  return typeof name === 'string' ? name : undefined;
}

/** What one piece of a chain holds; `path` is the file behind it (a qcow2 file is reread from it). */
export async function fileAllocation(part: unknown, path: string): Promise<FileAllocation> {
  if (part instanceof VhdDynamicDisk) return vhdAllocation(part.image, true);
  if (part instanceof VhdDifferencingLayer) return vhdAllocation(part.image, false);
  if (part instanceof VhdxDisk || part instanceof VhdxLayer) return vhdxAllocation(part.image);
  if (part instanceof Qcow2Layer) return qcow2Allocation(path, part.sectorCount() * part.sectorSize);
  if (part instanceof ImageFixedDisk || isFlatDisk(part)) {
    const size = (part as Disk).sectorCount() * (part as Disk).sectorSize;
    return { size, runs: size === 0 ? [] : [{ start: 0, length: size, state: 'data', offset: 0 }] };
  }
  throw new DiskError('UNSUPPORTED', `${path}: cannot map a ${(part as { layerType?: string }).layerType ?? 'layer'} of this kind`);
}

/** Raw images and fixed VHDs: sector i of the guest is byte 512 * i of the file. */
function isFlatDisk(part: unknown): boolean {
  const type = (part as Partial<Disk>).diskType;
  return type === 'raw' || type === 'file' || type === 'vhd-fixed';
}

async function vhdAllocation(image: VhdSparseImage, zeroWhereAbsent: boolean): Promise<FileAllocation> {
  const size = image.sectors * 512;
  const runs: AllocationRun[] = [];
  let end = 0;
  const gap = (to: number): void => {
    if (zeroWhereAbsent && to > end) runs.push({ start: end, length: to - end, state: 'zero' });
  };
  for (const run of await image.presence(0, image.sectors)) {
    // Presence runs may span blocks; each block's data sits after its own bitmap.
    for (let lba = run.lba; lba < run.lba + run.count;) {
      const block = Math.floor(lba / image.blockSectors);
      const stop = Math.min(run.lba + run.count, (block + 1) * image.blockSectors);
      gap(lba * 512);
      const offset = image.batEntry(block) * 512 + image.bitmapBytes + (lba - block * image.blockSectors) * 512;
      runs.push({ start: lba * 512, length: (stop - lba) * 512, state: 'data', offset });
      end = stop * 512;
      lba = stop;
    }
  }
  gap(size);
  return { size, runs };
}

async function vhdxAllocation(image: VhdxImage): Promise<FileAllocation> {
  const ss = image.metadata.logicalSectorSize;
  const runs: AllocationRun[] = [];
  await image.walk(0, image.sectorCount, (lba, count, state) => {
    if (state === 'zero') {
      runs.push({ start: lba * ss, length: count * ss, state: 'zero' });
      return;
    }
    const block = Math.floor(lba / image.sectorsPerBlock);
    const { state: blockState, offset } = image.payloadBlock(block);
    if (blockState !== BLOCK_STATE.FULLY_PRESENT && blockState !== BLOCK_STATE.PARTIALLY_PRESENT) {
      throw new DiskError('CORRUPT_IMAGE', `${image.name}: payload block ${block} holds data in state ${blockState}`, { field: 'bat' });
    }
    runs.push({ start: lba * ss, length: count * ss, state: 'data', offset: offset + (lba - block * image.sectorsPerBlock) * ss });
  });
  return { size: image.sectorCount * ss, runs };
}

async function qcow2Allocation(path: string, size: number): Promise<FileAllocation> {
  const file = isHttpUrl(path)
    ? imageFileFromRange(await HttpRangeSource.open(path, { fetch: nodeHttpFetch }))
    : imageFileFromSync(new NodeSyncFile(path, { readOnly: true }), { name: path, writable: false });
  try {
    const map = await Qcow2AllocationMap.open(file);
    const runs = (await map.runs()).map((r): AllocationRun => {
      if (r.state === 'compressed') return { start: r.start, length: r.length, state: 'data' };
      const state = r.state === 'unallocated' ? 'absent' : r.state;
      return r.offset === undefined ? { start: r.start, length: r.length, state } : { start: r.start, length: r.length, state, offset: r.offset };
    });
    return { size, runs };
  } finally {
    await file.close();
  }
}

/** The allocation of every file of an opened image, top first. */
export async function imageAllocation(image: OpenedImage): Promise<FileAllocation[]> {
  const parts = chainParts(image);
  return Promise.all(parts.map((p, i) => fileAllocation(p, i === 0 ? image.path : (partFileName(p) ?? image.path))));
}

/** qemu-img map's extents over a chain of files (top first), for guest bytes [0, size). */
export function chainExtents(files: readonly FileAllocation[], size: number): MapExtent[] {
  const cuts = new Set<number>([0, size]);
  for (const f of files) {
    if (f.size < size) cuts.add(f.size);
    for (const r of f.runs) {
      cuts.add(r.start);
      cuts.add(r.start + r.length);
    }
  }
  const points = [...cuts].filter((p) => p >= 0 && p <= size).sort((a, b) => a - b);
  const cursor = files.map(() => 0);
  const out: MapExtent[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const p = points[k]!;
    const length = points[k + 1]! - p;
    let e: Omit<MapExtent, 'start' | 'length'> | undefined;
    for (let i = 0; i < files.length && e === undefined; i++) {
      const runs = files[i]!.runs;
      while (cursor[i]! < runs.length && runs[cursor[i]!]!.start + runs[cursor[i]!]!.length <= p) cursor[i]!++;
      const r = runs[cursor[i]!];
      const here = r !== undefined && r.start <= p ? r : undefined;
      const offset = here?.offset === undefined ? {} : { offset: here.offset + (p - here.start) };
      if (here !== undefined && here.state !== 'absent') {
        e = { depth: i, present: true, zero: here.state === 'zero', data: here.state === 'data', ...offset };
      } else {
        const below = files[i + 1];
        if (below === undefined || p >= below.size) e = { depth: i, present: false, zero: true, data: false, ...offset };
      }
    }
    if (e === undefined) e = { depth: files.length - 1, present: false, zero: true, data: false };
    pushMerged(out, { start: p, length, ...e });
  }
  return out;
}

function pushMerged(out: MapExtent[], e: MapExtent): void {
  const last = out[out.length - 1];
  const mergeable =
    last !== undefined &&
    last.depth === e.depth &&
    last.present === e.present &&
    last.zero === e.zero &&
    last.data === e.data &&
    (last.offset === undefined ? e.offset === undefined : e.offset === last.offset + last.length);
  if (mergeable) out[out.length - 1] = { ...last, length: last.length + e.length };
  else out.push(e);
}
