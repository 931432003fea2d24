/**
 * `disklab create -f raw|vhd|qcow2 [-o subformat=fixed] [-o cluster_size=N] [-b BACKING [-F FMT]]
 * IMG [SIZE]`: a new zeroed image. SIZE is qemu-img's syntax (bytes, or 10M, 1.5G, ...) and is
 * rounded up to a whole 512-byte sector, as qemu-img does; with a backing file it defaults to the
 * backing file's size. VHDs are fixed unless -o subformat=dynamic or -b (differencing). qcow2 is
 * v3 with 64 KiB clusters unless -o cluster_size says otherwise; -b names its backing file (as
 * qemu-img does: relative to the new image's folder) and -F (or -o backing_fmt) its format,
 * detected by content when not given. An existing IMG is refused unless --force is given.
 * Prints qemu-img's "Formatting ..." line.
 */
import * as fs from 'node:fs';
import type { Disk } from '../core/disk/disk.ts';
import { DiskConfigError } from '../core/disk/errors.ts';
import { innerDisk } from '../core/disk/open-disk.ts';
import type { Qcow2Header } from '../core/formats/qcow2/header.ts';
import { Qcow2Layer } from '../core/formats/qcow2/qcow2-layer.ts';
import { createImage, parseFormatName } from '../node/open-image.ts';
import { qemuFormatName } from './info.ts';
import type { CliIo } from './io.ts';
import { optionsFor, parseCreateOptions, refuseExisting } from './options.ts';
import { parseSize, roundUpToSector } from './sizes.ts';

/** The qemu-img -o options disklab takes for qcow2. */
export const QCOW2_OPTIONS = ['cluster_size', 'backing_file', 'backing_fmt'] as const;

export interface CreateArgs {
  readonly image: string;
  /** Optional with a backing file: the parent's size is used. */
  readonly size: string | undefined;
  readonly format: string;
  /** Parent image: makes a differencing VHD (-f vhd, subformat dynamic), or a qcow2 overlay. */
  readonly backing?: string;
  /** qcow2: the backing file's format (-F). */
  readonly backingFormat?: string;
  readonly options: readonly string[];
  readonly force: boolean;
}

export async function createCommand(args: CreateArgs, io: CliIo): Promise<number> {
  const format = parseFormatName(args.format);
  const opts = parseCreateOptions(args.options, format === 'qcow2' ? QCOW2_OPTIONS : optionsFor(format));
  if (format === 'qcow2') return createQcow2Command(args, opts, io);
  const subformat = opts.get('subformat') ?? (format === 'vhd' ? (args.backing === undefined ? 'fixed' : 'dynamic') : undefined);
  if (args.size === undefined && args.backing === undefined) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', 'a size is needed unless a backing file (-b) gives it', { value: undefined });
  }
  const size = args.size === undefined ? 0 : roundUpToSector(parseSize(args.size));
  refuseExisting(args.image, args.force);
  if (args.force) fs.rmSync(args.image, { force: true });
  const extra = subformat === undefined ? '' : ` subformat=${subformat}`;
  const image = await createImage(args.image, format, size, { subformat, backing: args.backing });
  const made = image.disk.sectorCount() * image.disk.sectorSize;
  const backing = args.backing === undefined ? '' : ` backing_file=${args.backing}`;
  io.stdout(`Formatting '${args.image}', fmt=${qemuFormatName(format)} size=${made}${backing}${extra}\n`);
  await image.disk.flush();
  await image.disk.close();
  return 0;
}

async function createQcow2Command(args: CreateArgs, opts: Map<string, string>, io: CliIo): Promise<number> {
  const backing = args.backing ?? opts.get('backing_file');
  const backingFormat = args.backingFormat ?? opts.get('backing_fmt');
  if (args.size === undefined && backing === undefined) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', 'a size is needed unless a backing file (-b) gives it', { value: undefined });
  }
  const clusterText = opts.get('cluster_size');
  const clusterSize = clusterText === undefined ? undefined : parseSize(clusterText);
  const size = args.size === undefined ? 0 : roundUpToSector(parseSize(args.size));
  refuseExisting(args.image, args.force);
  if (args.force) fs.rmSync(args.image, { force: true });
  const image = await createImage(args.image, 'qcow2', size, {
    ...(backing === undefined ? {} : { backing }),
    ...(backingFormat === undefined ? {} : { backingFormat }),
    ...(clusterSize === undefined ? {} : { clusterSize }),
  });
  try {
    const made = image.disk.sectorCount() * image.disk.sectorSize;
    const header = topQcow2Header(image.disk);
    const recorded = header?.backingFile === undefined ? '' : ` backing_file=${header.backingFile} backing_fmt=${header.backingFormat ?? 'raw'}`;
    const cluster = header?.clusterSize ?? clusterSize ?? 65536;
    io.stdout(`Formatting '${args.image}', fmt=qcow2 cluster_size=${cluster} extended_l2=off compression_type=zlib size=${made}${recorded} lazy_refcounts=off refcount_bits=16\n`);
    await image.disk.flush();
  } finally {
    await image.disk.close();
  }
  return 0;
}

/** The header of the top image of a qcow2 chain (its layer keeps it). */
function topQcow2Header(disk: Disk): Qcow2Header | undefined {
  const layered = innerDisk(disk) as { layerInfo?: () => Array<{ layer: unknown }> };
  const top = layered.layerInfo?.()[0]?.layer;
  return top instanceof Qcow2Layer ? top.header : undefined;
}
