/**
 * `disklab create -f raw|vhd [-o subformat=fixed] IMG SIZE`: a new zeroed image. SIZE is
 * qemu-img's syntax (bytes, or 10M, 1.5G, ...) and is rounded up to a whole 512-byte sector, as
 * qemu-img does. VHDs are fixed (dynamic is not supported yet). An existing IMG is refused unless
 * --force is given. Prints qemu-img's "Formatting ..." line.
 */
import * as fs from 'node:fs';
import { DiskConfigError } from '../core/disk/errors.ts';
import { createImage, parseFormatName } from '../node/open-image.ts';
import { qemuFormatName } from './info.ts';
import type { CliIo } from './io.ts';
import { optionsFor, parseCreateOptions, refuseExisting } from './options.ts';
import { parseSize, roundUpToSector } from './sizes.ts';

export interface CreateArgs {
  readonly image: string;
  /** Optional with a backing file: the parent's size is used. */
  readonly size: string | undefined;
  readonly format: string;
  /** Parent image: makes a differencing VHD (-f vhd, subformat dynamic). */
  readonly backing?: string;
  readonly options: readonly string[];
  readonly force: boolean;
}

export async function createCommand(args: CreateArgs, io: CliIo): Promise<number> {
  const format = parseFormatName(args.format);
  const opts = parseCreateOptions(args.options, optionsFor(format));
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
