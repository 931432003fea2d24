/**
 * `disklab measure [--output=json] [-O FMT] [-o options] [--size N | [-f FMT] IMAGE]`: how large
 * a FMT image would be, as qemu-img measure says: `required` (bytes a new image needs for the
 * data it will hold: for --size N none, for IMAGE its allocated data) and `fully-allocated` (the
 * image with every cluster or block allocated). JSON has qemu's keys ("bitmaps", "required",
 * "fully-allocated"; "bitmaps" only for a qcow2 v3 source measured as a qcow2 v3 target, as
 * qemu prints it); human output is qemu's "required size: N\nfully allocated size: N\n".
 *
 * - raw: both are the virtual size (rounded up to 512 bytes with --size), as in qemu.
 * - qcow2 (options cluster_size, compat, refcount_bits, extended_l2, preallocation): QEMU's
 *   qcow2_measure: fully-allocated = header cluster + L2 and L1 tables + refcount metadata (the
 *   fixed point of qcow2_refcount_metadata_size) + every cluster; required = that minus the
 *   clusters the source leaves empty (a cluster counts if any of its bytes is data).
 * - vpc: our extension, no qemu equivalent (qemu's vpc driver does not measure). Based on the
 *   dynamic VHD layout disklab writes (create-dynamic.ts): footer copy + dynamic header + BAT
 *   (4 bytes a block, whole sectors) + footer, plus per allocated block its sector bitmap and the
 *   block; fully-allocated has every block. subformat=fixed is the size plus the footer.
 *
 * What counts as a source's data: the extents `disklab map` finds (zero records and ranges no
 * file holds are skipped, as qemu skips BDRV_BLOCK_ZERO). For raw and fixed VHD sources qemu asks
 * the file system for holes; Node cannot (no SEEK_DATA), so: a file with no holes (st_blocks
 * covers its size) is all data, as qemu finds it; otherwise each 4 KiB file block holding a
 * non-zero byte is data. That matches qemu on 4 KiB-block file systems except for zeroes that
 * were written (allocated) into a sparse file, which qemu counts and we do not.
 *
 * Errors: a bad option or value is a UsageError (exit 1); a size qcow2 cannot address is
 * INVALID_PARAMETER; qcow2 sources with persistent bitmaps are UNSUPPORTED (their bitmaps' size
 * is not computed yet).
 */
import * as fs from 'node:fs';
import { DiskConfigError, DiskError } from '../core/disk/errors.ts';
import { bitmapBytesFor, VHD_DEFAULT_BLOCK_SIZE, VHD_DYNAMIC_HEADER_SIZE } from '../core/formats/vhd/dynamic-header.ts';
import { VHD_FOOTER_SIZE } from '../core/formats/vhd/footer.ts';
import { openImage, parseFormatName } from '../node/open-image.ts';
import { UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { chainExtents, chainParts, imageAllocation } from './map-extents.ts';
import { Qcow2Layer } from '../core/formats/qcow2/qcow2-layer.ts';
import { parseCreateOptions } from './options.ts';
import { parseSize, roundUpToSector } from './sizes.ts';

export interface MeasureArgs {
  readonly image?: string;
  readonly size?: string;
  readonly sourceFormat?: string;
  readonly outputFormat: string;
  readonly options: readonly string[];
  readonly output: 'human' | 'json';
}

export interface Measurement {
  readonly bitmaps?: number;
  readonly required: number;
  readonly 'fully-allocated': number;
}

/** A source to measure: its virtual size, its data as sorted [start, end) byte ranges, and whether qemu would count bitmaps. */
export interface MeasureSource {
  readonly size: number;
  readonly data: ReadonlyArray<readonly [number, number]>;
  readonly qcow2v3: boolean;
}

const OPTIONS: Readonly<Record<string, readonly string[]>> = {
  raw: [],
  qcow2: ['cluster_size', 'compat', 'refcount_bits', 'extended_l2', 'preallocation'],
  vhd: ['subformat', 'block_size'],
};

export async function measureCommand(args: MeasureArgs, io: CliIo): Promise<number> {
  if (args.image !== undefined && args.size !== undefined) throw new UsageError('--size N cannot be used together with a filename');
  if (args.image === undefined && args.size === undefined) throw new UsageError('either --size N or one filename must be specified');
  const format = parseFormatName(args.outputFormat, 'output-format');
  const allowed = OPTIONS[format];
  if (allowed === undefined) throw new DiskError('UNSUPPORTED', `measuring ${format} images is not supported (measurable: raw, qcow2, vpc)`);
  const opts = parseCreateOptions(args.options, allowed);
  let source: MeasureSource | undefined;
  let size: number;
  if (args.image !== undefined) {
    source = await measureSource(args.image, args.sourceFormat);
    size = source.size;
  } else {
    size = roundUpToSector(parseSize(args.size!));
  }
  const m = format === 'raw' ? { required: size, 'fully-allocated': size } : format === 'qcow2' ? measureQcow2(size, opts, source) : measureVpc(size, opts, source);
  io.stdout(
    args.output === 'json'
      ? `${JSON.stringify(m, null, 4)}\n`
      : `required size: ${m.required}\nfully allocated size: ${m['fully-allocated']}\n${m.bitmaps === undefined ? '' : `bitmaps size: ${m.bitmaps}\n`}`,
  );
  return 0;
}

/** The data of an image (and its chain) as qemu's block status would find it. */
export async function measureSource(path: string, format?: string): Promise<MeasureSource> {
  const image = await openImage(path, { format, readOnly: true });
  try {
    const size = image.disk.sectorCount() * image.disk.sectorSize;
    const top = chainParts(image)[0];
    const qcow2v3 = top instanceof Qcow2Layer && top.header.version === 3;
    if (top instanceof Qcow2Layer && (top.header.bitmaps?.count ?? 0) > 0) {
      throw new DiskError('UNSUPPORTED', `${path}: measuring a qcow2 image with persistent bitmaps is not supported yet`);
    }
    if (image.structured === undefined) return { size, data: flatFileData(path, size), qcow2v3 };
    const data: Array<[number, number]> = [];
    for (const e of chainExtents(await imageAllocation(image), size)) {
      if (!e.data) continue;
      const last = data[data.length - 1];
      if (last && last[1] === e.start) last[1] = e.start + e.length;
      else data.push([e.start, e.start + e.length]);
    }
    return { size, data, qcow2v3 };
  } finally {
    await image.disk.close();
  }
}

const FS_BLOCK = 4096;
const CHUNK = 4 << 20;

/** Data ranges of the first `size` bytes of a raw file (a raw image, or a fixed VHD before its footer); see the module doc. */
export function flatFileData(path: string, size: number): Array<[number, number]> {
  if (size === 0) return [];
  const st = fs.statSync(path);
  if (st.blocks * 512 >= Math.ceil(st.size / FS_BLOCK) * FS_BLOCK) return [[0, size]];
  const out: Array<[number, number]> = [];
  const fd = fs.openSync(path, 'r');
  try {
    const buf = new Uint8Array(CHUNK);
    for (let at = 0; at < size; at += CHUNK) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, size - at), at);
      for (let b = 0; b < n; b += FS_BLOCK) {
        const end = Math.min(n, b + FS_BLOCK);
        if (!allZero(buf, b, end)) {
          const last = out[out.length - 1];
          if (last && last[1] === at + b) last[1] = at + end;
          else out.push([at + b, at + end]);
        }
      }
      if (n === 0) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Clusters of `unit` bytes touched by the data ranges. */
export function unitsTouched(data: ReadonlyArray<readonly [number, number]>, unit: number): number {
  let count = 0;
  let next = 0; // first unit not yet counted
  for (const [start, end] of data) {
    const first = Math.max(next, Math.floor(start / unit));
    const last = Math.ceil(end / unit);
    if (last > first) count += last - first;
    next = Math.max(next, last);
  }
  return count;
}

const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

function boolOption(opts: Map<string, string>, key: string): boolean {
  const v = opts.get(key);
  if (v === undefined) return false;
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  throw new UsageError(`${key} must be on or off, not '${v}'`);
}

export function measureQcow2(size: number, opts: Map<string, string>, source?: MeasureSource): Measurement {
  const extendedL2 = boolOption(opts, 'extended_l2');
  const cs = opts.has('cluster_size') ? parseSize(opts.get('cluster_size')!) : 65536;
  if (!isPowerOfTwo(cs) || cs < 512 || cs > 2 * 1024 * 1024) throw new UsageError(`cluster_size must be a power of two between 512 and 2M, not ${cs}`);
  if (extendedL2 && cs < 16384) throw new UsageError('extended L2 entries are only supported with cluster sizes of at least 16384 bytes');
  const compat = opts.get('compat') ?? '1.1';
  const version = compat === '1.1' || compat === 'v3' ? 3 : compat === '0.10' || compat === 'v2' ? 2 : undefined;
  if (version === undefined) throw new UsageError(`compat must be 0.10 or 1.1, not '${compat}'`);
  if (version === 2 && extendedL2) throw new UsageError('extended L2 entries are only supported with compat=1.1');
  const refcountBits = opts.has('refcount_bits') ? Number(opts.get('refcount_bits')) : 16;
  if (!isPowerOfTwo(refcountBits) || refcountBits > 64) throw new UsageError(`refcount_bits must be a power of two up to 64, not ${opts.get('refcount_bits')}`);
  if (version === 2 && refcountBits !== 16) throw new UsageError('compat=0.10 images need refcount_bits=16');
  const prealloc = opts.get('preallocation') ?? 'off';
  if (!['off', 'metadata', 'falloc', 'full'].includes(prealloc)) throw new UsageError(`preallocation must be off, metadata, falloc or full, not '${prealloc}'`);

  const virtualSize = Math.ceil(size / cs) * cs;
  const l2e = extendedL2 ? 16 : 8;
  const l2Tables = Math.ceil(virtualSize / cs / (cs / l2e));
  if (l2Tables * 8 > 32 * 1024 * 1024) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', 'The image size is too large (try using a larger cluster size)', { value: size });
  }
  let required = source === undefined ? 0 : unitsTouched(source.data, cs) * cs;
  if (prealloc === 'full' || prealloc === 'falloc') required = virtualSize;
  const fullyAllocated = qcow2PreallocSize(virtualSize, cs, Math.log2(refcountBits), extendedL2);
  const m = { required: fullyAllocated - virtualSize + required, 'fully-allocated': fullyAllocated };
  return version >= 3 && source?.qcow2v3 === true ? { bitmaps: 0, ...m } : m;
}

/** QEMU's qcow2_calc_prealloc_size: metadata for every cluster plus the clusters themselves. */
export function qcow2PreallocSize(totalSize: number, cs: number, refcountOrder: number, extendedL2: boolean): number {
  const aligned = Math.ceil(totalSize / cs) * cs;
  const l2e = extendedL2 ? 16 : 8;
  let meta = cs; // the header cluster
  const nl2e = Math.ceil(aligned / cs / (cs / l2e)) * (cs / l2e);
  meta += nl2e * l2e;
  const nl1e = Math.ceil((nl2e * l2e) / cs / (cs / 8)) * (cs / 8);
  meta += nl1e * 8;
  meta += refcountMetadataSize((meta + aligned) / cs, cs, refcountOrder);
  return meta + aligned;
}

/** QEMU's qcow2_refcount_metadata_size: refcount blocks and table clusters that also count themselves. */
function refcountMetadataSize(clusters: number, cs: number, refcountOrder: number): number {
  const blocksPerTableCluster = cs / 8;
  const refcountsPerBlock = (cs * 8) / 2 ** refcountOrder;
  let table = 0;
  let blocks = 0;
  let n = 0;
  let last: number;
  do {
    last = n;
    blocks = Math.ceil((clusters + table + blocks) / refcountsPerBlock);
    table = Math.ceil(blocks / blocksPerTableCluster);
    n = clusters + blocks + table;
  } while (n !== last);
  return (blocks + table) * cs;
}

export function measureVpc(size: number, opts: Map<string, string>, source?: MeasureSource): Measurement {
  const subformat = opts.get('subformat') ?? 'dynamic';
  if (subformat === 'fixed') return { required: size + VHD_FOOTER_SIZE, 'fully-allocated': size + VHD_FOOTER_SIZE };
  if (subformat !== 'dynamic') throw new UsageError(`subformat must be dynamic or fixed, not '${subformat}'`);
  const blockSize = opts.has('block_size') ? parseSize(opts.get('block_size')!) : VHD_DEFAULT_BLOCK_SIZE;
  if (!isPowerOfTwo(blockSize) || blockSize < 512 || blockSize > 256 * 1024 * 1024) throw new UsageError(`block_size must be a power of two between 512 and 256M, not ${blockSize}`);
  const entries = Math.ceil(size / blockSize);
  const overhead = VHD_FOOTER_SIZE + VHD_DYNAMIC_HEADER_SIZE + Math.max(512, Math.ceil((entries * 4) / 512) * 512) + VHD_FOOTER_SIZE;
  const perBlock = bitmapBytesFor(blockSize) + blockSize;
  const allocated = source === undefined ? 0 : unitsTouched(source.data, blockSize);
  return { required: overhead + allocated * perBlock, 'fully-allocated': overhead + entries * perBlock };
}

