/**
 * `disklab commit IMG`: merges a differencing VHD into its parent, like `qemu-img commit -d`:
 * every sector the child holds is written into the parent (read through the chain, so a zero
 * record commits zeroes), the parent is flushed, and the child is left as it was (reading through
 * it still gives the same bytes, now also the parent's). Progress with -p like convert.
 *
 * Only the first parent is written; it must be writable (dynamic or fixed VHD, or raw). qcow2 and
 * VHDX overlays are read-only in Disk Lab, so they are refused with UNSUPPORTED.
 */
import { DiskError } from '../core/disk/errors.ts';
import { innerDisk } from '../core/disk/open-disk.ts';
import type { PresenceRun } from '../core/layered/layer.ts';
import { openImage } from '../node/open-image.ts';
import type { CliIo } from './io.ts';

export interface CommitArgs {
  readonly image: string;
  readonly format?: string;
  readonly progress: boolean;
}

const CHUNK_SECTORS = 4096; // 2 MiB at 512-byte sectors: bounded memory whatever the image size

export async function commitCommand(args: CommitArgs, io: CliIo): Promise<number> {
  const child = await openImage(args.image, { format: args.format, readOnly: true });
  try {
    const structured = child.structured;
    const parentPath = structured?.chain[1];
    if (child.format !== 'vhd' || structured?.subformat !== 'differencing' || parentPath === undefined) {
      const what = [structured?.subformat, child.format].filter((w) => w !== undefined).join(' ');
      throw new DiskError('UNSUPPORTED', `${args.image}: commit needs a differencing VHD (this is a ${what} image)`);
    }
    const layered = innerDisk(structured.disk) as { presence?: (index: number, lba: number, count: number) => Promise<PresenceRun[]> };
    if (typeof layered.presence !== 'function') throw new DiskError('UNSUPPORTED', `${args.image}: the chain does not report which sectors the child holds`);
    const sectors = child.disk.sectorCount();
    const runs = await layered.presence(0, 0, sectors);
    const total = runs.reduce((n, r) => n + r.count, 0);
    const parent = await openImage(parentPath, { readOnly: false });
    try {
      const buf = new Uint8Array(CHUNK_SECTORS * child.disk.sectorSize);
      let done = 0;
      for (const run of runs) {
        for (let lba = run.lba; lba < run.lba + run.count; ) {
          const n = Math.min(CHUNK_SECTORS, run.lba + run.count - lba);
          const view = buf.subarray(0, n * child.disk.sectorSize);
          await child.disk.read(lba, view);
          await parent.disk.write(lba, view);
          lba += n;
          done += n;
          if (args.progress) io.stderr(`    (${((100 * done) / Math.max(1, total)).toFixed(2)}/100%)\r`);
        }
      }
      await parent.disk.flush();
    } finally {
      await parent.disk.close();
    }
    if (args.progress) io.stderr('\n');
    io.stdout('Image committed.\n');
    return 0;
  } finally {
    await child.disk.close();
  }
}
