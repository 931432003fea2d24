/**
 * StreamJob: copies the data of the lower layers into the top layer of a LayeredDisk (QEMU's
 * block-stream), so the top no longer needs them. For each sector the top lacks (absent) and a
 * lower layer holds as data (allocation.ts decides, top-down, so a lower zero record hides data
 * deeper still), the stack's contents are read and written into the top with write-no-overwrite:
 * a guest write or unmap that races the job has made the sector present in the top, and wins.
 * Sectors that read as zero below are left absent: without the lower layers they read zero too.
 * The result is a LayeredDisk of the top layer alone, reading exactly as the old stack; the
 * lower layers are not closed (the caller disposes of them), and the old LayeredDisk must not be
 * closed afterwards.
 *
 * Safety: the disk's contents never change: the top only gains copies of what lies below it.
 * Errors: INVALID_INPUT for a stack of one layer; the top's errors (QUOTA, IO) fail the job.
 */
import { DiskError } from '../disk/errors.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { stackAllocation } from './allocation.ts';
import { BaseJob } from './base-job.ts';
import { pieces } from './copy-runs.ts';
import type { SectorRun } from './dirty-bitmap.ts';
import type { JobOptions } from './job.ts';

export interface StreamJobOptions extends JobOptions {
  readonly disk: LayeredDisk;
}

export interface StreamResult {
  /** A stack of the top layer alone. */
  readonly disk: LayeredDisk;
}

export class StreamJob extends BaseJob<StreamResult> {
  readonly kind = 'stream' as const;
  readonly #disk: LayeredDisk;

  constructor(options: StreamJobOptions) {
    super(options);
    this.#disk = options.disk;
  }

  protected async execute(): Promise<StreamResult> {
    const disk = this.#disk;
    const info = disk.layerInfo();
    if (info.length < 2) throw new DiskError('INVALID_INPUT', 'stream: the stack has nothing below the top');
    const top = info[0]!.layer;
    const ss = disk.sectorSize;
    const sectors = disk.sectorCount();
    const chunkSectors = Math.max(1, Math.floor(this.chunkBytes / ss));
    const below = stackAllocation(disk, 1);
    // What to copy: lower data under sectors the top lacks, found window by window (metadata only).
    const todo: SectorRun[] = [];
    const window = Math.max(chunkSectors, 1 << 20);
    for (let lba = 0; lba < sectors; lba += window) {
      const n = Math.min(window, sectors - lba);
      const held = await top.presence(lba, n);
      for (const run of await below(lba, n)) {
        let at = run.lba;
        const end = run.lba + run.count;
        for (const h of held) {
          if (h.lba + h.count <= at || h.lba >= end) continue;
          if (h.lba > at) todo.push({ lba: at, count: h.lba - at });
          at = Math.max(at, h.lba + h.count);
        }
        if (at < end) todo.push({ lba: at, count: end - at });
      }
    }
    this.setTotal(todo.reduce((n, r) => n + r.count, 0) * ss);
    const buf = new Uint8Array(chunkSectors * ss);
    for (const run of pieces(todo, chunkSectors)) {
      const view = buf.subarray(0, run.count * ss);
      await disk.read(run.lba, view);
      await top.write(run.lba, view, { noOverwrite: true });
      await this.piece(run.count * ss);
    }
    await top.flush();
    return { disk: new LayeredDisk([{ layer: top, readCache: info[0]!.readCache, writeThrough: false }]) };
  }
}
