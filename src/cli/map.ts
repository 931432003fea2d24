/**
 * `disklab map [--output=human|json] IMG`: which guest ranges are where, shaped like qemu-img map.
 *
 * Extents come from each file's allocation metadata (map-extents.ts): depth (which file of the
 * chain), present/zero/data, and `offset`, the host offset of the bytes in that file. JSON is
 * qemu-img's exact layout, one extent per line; qemu 7.2 (the one we test against) prints no
 * "compressed" or "filename" keys in JSON, and neither do we. Human output lists the data
 * extents with the file that holds them ("Mapped to" is the offset in that file); like qemu-img,
 * it refuses (exit 1, after the rows before it) at a data extent with no offset: a compressed
 * qcow2 cluster.
 *
 * Documented differences from qemu-img map:
 * - Raw and fixed VHD images are one data extent at file offset 0. qemu asks the file system
 *   for holes (SEEK_DATA/SEEK_HOLE) and marks them "zero": true; Node has no portable way to ask,
 *   and reading the whole image to guess at zeroes would be neither what qemu does nor cheap. On
 *   a file system without hole reporting, qemu-img prints exactly what we print. The same holds
 *   for a fixed VHD at the base of a differencing chain (depth and offset are qemu's).
 * - Dynamic VHD: qemu ignores the sector bitmaps and calls a whole allocated block data; we
 *   follow the bitmap (a clear bit reads as zero in our reader and per the VHD spec), so an image
 *   whose blocks are partly written (not QEMU-made ones: QEMU sets every bit) maps finer.
 * - Differencing VHD and VHDX chains: qemu cannot follow them (see info.ts); we map the chain.
 * - VHDX: qemu's vhdx driver reports no allocation at all (one data extent, no offset); we map
 *   the BAT.
 */
import { openImage } from '../node/open-image.ts';
import type { CliIo } from './io.ts';
import { chainExtents, imageAllocation, type MapExtent } from './map-extents.ts';
import { chainLinks } from './info.ts';

export type { MapExtent } from './map-extents.ts';

export interface MapArgs {
  readonly image: string;
  readonly format?: string;
  readonly output: 'human' | 'json';
}

export async function mapCommand(args: MapArgs, io: CliIo): Promise<number> {
  const image = await openImage(args.image, { format: args.format, readOnly: true });
  try {
    const size = image.disk.sectorCount() * image.disk.sectorSize;
    const names = chainLinks(image).map((l) => l.filename);
    const extents = chainExtents(await imageAllocation(image), size);
    if (args.output === 'json') {
      io.stdout(jsonMap(extents));
      return 0;
    }
    return humanMap(extents, names, io);
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

/** qemu's `%#-16" PRIx64` columns: 0x-prefixed hex except for zero, left-aligned in 16. */
function humanMap(extents: readonly MapExtent[], names: readonly string[], io: CliIo): number {
  const col = (n: number) => (n === 0 ? '0' : `0x${n.toString(16)}`).padEnd(16);
  io.stdout(`${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File\n`);
  for (const e of extents) {
    if (!e.data || e.zero) continue;
    if (e.offset === undefined) {
      io.stderr('disklab: File contains external, encrypted or compressed clusters.\n');
      return 1;
    }
    io.stdout(`${col(e.start)}${col(e.length)}${col(e.offset)}${names[e.depth] ?? ''}\n`);
  }
  return 0;
}
