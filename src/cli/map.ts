/**
 * `disklab map [--output=human|json] IMG`: which guest ranges are where, shaped like qemu-img map.
 *
 * Raw and fixed VHD images are fully allocated: every guest byte lives at the same offset in the
 * image file. We report that as one extent, present and data, at file offset 0. qemu-img instead
 * asks the file system for holes (SEEK_DATA/SEEK_HOLE) and marks them "zero": true; Node has no
 * portable way to ask, and reading the whole image to guess at zeroes would be neither what
 * qemu-img does nor cheap, so we don't. On a file system without hole reporting, qemu-img prints
 * exactly what we print. Human output lists the data extents like qemu-img's does.
 * Dynamic/differencing VHD, VHDX and qcow2 map from their allocation metadata (map-extents.ts).
 */
import { openImage } from '../node/open-image.ts';
import type { CliIo } from './io.ts';
import { presenceSources, structuredExtents } from './map-extents.ts';
import { innerDisk } from '../core/disk/open-disk.ts';

export interface MapArgs {
  readonly image: string;
  readonly format?: string;
  readonly output: 'human' | 'json';
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

export async function mapCommand(args: MapArgs, io: CliIo): Promise<number> {
  const image = await openImage(args.image, { format: args.format, readOnly: true });
  try {
    const size = image.disk.sectorCount() * image.disk.sectorSize;
    const sources = image.structured && presenceSources(innerDisk(image.structured.disk));
    const extents: MapExtent[] = sources
      ? await structuredExtents(sources, image.disk.sectorCount(), image.disk.sectorSize)
      : size === 0
        ? []
        : [{ start: 0, length: size, depth: 0, present: true, zero: false, data: true, offset: 0 }];
    io.stdout(args.output === 'json' ? jsonMap(extents) : humanMap(extents, args.image));
    return 0;
  } finally {
    await image.disk.close();
  }
}

/** qemu-img's exact JSON layout: one extent per line, `{ "key": value, ... }`. */
function jsonMap(extents: readonly MapExtent[]): string {
  const line = (e: MapExtent) =>
    `{ ${Object.entries(e)
      .map(([k, v]) => `"${k}": ${JSON.stringify(v)}`)
      .join(', ')}}`;
  return `[${extents.map(line).join(',\n')}]\n`;
}

function humanMap(extents: readonly MapExtent[], file: string): string {
  const col = (n: number) => (n === 0 ? '0' : `0x${n.toString(16)}`).padEnd(16);
  const rows = extents.filter((e) => e.data && e.offset !== undefined).map((e) => `${col(e.start)}${col(e.length)}${col(e.offset ?? 0)}${file}\n`);
  return `${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File\n${rows.join('')}`;
}
