/**
 * `disklab compare [-f FMT] [-F FMT] [-s] [-q] A B`: are two images' contents the same? Like
 * qemu-img compare: exit 0 "Images are identical.", 1 "Content mismatch at offset N!" (N is the
 * start of the first differing 512-byte sector, as qemu-img prints it), 2 on any error. Images of
 * different sizes compare equal when the larger one's extra part is all zeroes ("Warning: Image
 * size mismatch!" first); -s (strict) makes any size difference a mismatch. -q prints nothing.
 * Reads both images in bounded chunks.
 */
import type { Disk } from '../core/disk/disk.ts';
import { openImage, type OpenedImage } from '../node/open-image.ts';
import { DEFAULT_CHUNK_BYTES, firstDifference, firstNonZero } from './copy.ts';
import { reportError } from './errors.ts';
import type { CliIo } from './io.ts';

export interface CompareArgs {
  readonly first: string;
  readonly second: string;
  readonly firstFormat?: string;
  readonly secondFormat?: string;
  readonly strict: boolean;
  readonly quiet: boolean;
  readonly chunkBytes?: number;
}

const SECTOR = 512;

export async function compareCommand(args: CompareArgs, io: CliIo): Promise<number> {
  const say = (text: string) => {
    if (!args.quiet) io.stdout(`${text}\n`);
  };
  const opened: OpenedImage[] = [];
  try {
    opened.push(await openImage(args.first, { format: args.firstFormat, readOnly: true }));
    opened.push(await openImage(args.second, { format: args.secondFormat, readOnly: true }));
    const [a, b] = opened.map((o) => o.disk) as [Disk, Disk];
    const sizeA = a.sectorCount() * a.sectorSize;
    const sizeB = b.sectorCount() * b.sectorSize;
    const common = Math.min(sizeA, sizeB);
    const chunk = Math.max(SECTOR, Math.floor((args.chunkBytes ?? DEFAULT_CHUNK_BYTES) / SECTOR) * SECTOR);
    const bufA = new Uint8Array(chunk);
    const bufB = new Uint8Array(chunk);
    for (let at = 0; at < common; at += chunk) {
      const n = Math.min(chunk, common - at);
      await readBytes(a, at, bufA.subarray(0, n));
      await readBytes(b, at, bufB.subarray(0, n));
      const diff = firstDifference(bufA.subarray(0, n), bufB.subarray(0, n));
      if (diff >= 0) return mismatch(say, at + diff);
    }
    if (sizeA !== sizeB) {
      if (args.strict) {
        say('Strict mode: Image size mismatch!');
        return 1;
      }
      say('Warning: Image size mismatch!');
      const larger = sizeA > sizeB ? a : b;
      const end = Math.max(sizeA, sizeB);
      for (let at = common; at < end; at += chunk) {
        const n = Math.min(chunk, end - at);
        await readBytes(larger, at, bufA.subarray(0, n));
        const nz = firstNonZero(bufA.subarray(0, n));
        if (nz >= 0) return mismatch(say, at + nz);
      }
    }
    say('Images are identical.');
    return 0;
  } catch (e) {
    reportError(io, e);
    return 2;
  } finally {
    for (const o of opened) await o.disk.close();
  }
}

function mismatch(say: (text: string) => void, offset: number): number {
  say(`Content mismatch at offset ${offset - (offset % SECTOR)}!`);
  return 1;
}

/** Reads bytes at a byte offset; callers keep offsets and lengths whole sectors. */
function readBytes(disk: Disk, offset: number, into: Uint8Array): Promise<void> {
  return disk.read(offset / disk.sectorSize, into);
}
