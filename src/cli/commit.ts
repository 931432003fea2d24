/**
 * `disklab commit IMG`: merges an overlay into its parent, like `qemu-img commit -d`: a
 * differencing VHD (into a VHD or raw parent) or a qcow2 overlay (into its backing file: qcow2,
 * raw or VHD). Every sector the overlay holds is written into the parent, read through the chain
 * (so a zero record commits zeroes: as zero clusters or unmapped ranges where the parent reads
 * unmapped sectors as zeroes, else as written zeroes), the parent is flushed, and the overlay is
 * left as it was (reading through it still gives the same bytes, now also the parent's).
 * Progress with -p like convert.
 *
 * Only the first parent is written; it must be writable. A qcow2 parent is opened with its own
 * backing chain, so a partial cluster it gains copies the rest from below, as in QEMU. A qcow2
 * overlay's recorded backing format is used to open the parent (else it is detected by content).
 * Errors: UNSUPPORTED for images that are not overlays; the formats' DiskErrors.
 */
import { DiskError } from '../core/disk/errors.ts';
import { innerDisk } from '../core/disk/open-disk.ts';
import type { PresenceRun } from '../core/layered/layer.ts';
import { Qcow2Layer } from '../core/formats/qcow2/qcow2-layer.ts';
import { openImage } from '../node/open-image.ts';
import type { CliIo } from './io.ts';

export interface CommitArgs {
  readonly image: string;
  readonly format?: string;
  readonly progress: boolean;
}

const CHUNK_SECTORS = 4096; // 2 MiB at 512-byte sectors: bounded memory whatever the image size

interface Chain {
  presence?: (index: number, lba: number, count: number) => Promise<PresenceRun[]>;
  layerInfo?: () => Array<{ layer: unknown }>;
}

export async function commitCommand(args: CommitArgs, io: CliIo): Promise<number> {
  const child = await openImage(args.image, { format: args.format, readOnly: true });
  try {
    const structured = child.structured;
    const parentPath = structured?.chain[1];
    const overlay = (child.format === 'vhd' && structured?.subformat === 'differencing') || (child.format === 'qcow2' && structured?.subformat === 'overlay');
    if (!overlay || parentPath === undefined) {
      const what = [structured?.subformat, child.format].filter((w) => w !== undefined).join(' ');
      throw new DiskError('UNSUPPORTED', `${args.image}: commit needs a differencing VHD or a qcow2 image with a backing file (this is a ${what} image)`);
    }
    const layered = innerDisk(structured.disk) as Chain;
    if (typeof layered.presence !== 'function') throw new DiskError('UNSUPPORTED', `${args.image}: the chain does not report which sectors the child holds`);
    const top = layered.layerInfo?.()[0]?.layer;
    const parentFormat = top instanceof Qcow2Layer ? top.header.backingFormat : undefined;
    const sectors = child.disk.sectorCount();
    const runs = await layered.presence(0, 0, sectors);
    const total = runs.reduce((n, r) => n + r.count, 0);
    const parent = await openImage(parentPath, { readOnly: false, ...(parentFormat === undefined ? {} : { format: parentFormat }) });
    try {
      const ss = child.disk.sectorSize;
      const buf = new Uint8Array(CHUNK_SECTORS * ss);
      const parentSectors = parent.disk.sectorCount();
      let done = 0;
      for (const run of runs) {
        // A parent smaller than the overlay takes only what fits (qemu-img commit does not grow it either).
        const end = Math.min(run.lba + run.count, parentSectors);
        for (let lba = run.lba; lba < end; ) {
          const n = Math.min(CHUNK_SECTORS, end - lba);
          if (run.state === 'zero' && parent.disk.unmapBehavior === 'zeroes') {
            await parent.disk.unmap(lba, n);
          } else {
            const view = buf.subarray(0, n * ss);
            await child.disk.read(lba, view);
            await parent.disk.write(lba, view);
          }
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
