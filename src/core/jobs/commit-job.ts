/**
 * CommitJob: merges the top layer of a LayeredDisk into the layer below it, then drops it (QEMU's
 * commit; `qemu-img commit`). Every sector the top holds is written into the layer below: data as
 * data, zero-state sectors as zeroes (an unmap when the layer below zeroes on unmap, else written
 * zeroes). Then the layer below is flushed, and the result is a LayeredDisk of the remaining
 * layers, which reads exactly as the old stack did.
 *
 * Live commit: with `live` (the TrackedDisk the guest writes through, over `disk`), writes go on
 * during the job; a dirty bitmap records them, and after the first pass the job re-commits what
 * the top holds in dirty granules until none are left, then quiesces the guest, commits the last
 * ones, and switches the TrackedDisk to the shorter stack before letting writes go.
 * A commit piece and a guest write or unmap over the same sectors never overlap in time: the
 * stack's unmap decides from what lies below the top whether the top may drop a sector to absent,
 * and a piece landing in the layer below during that decision would revive the old data.
 *
 * Safety: the top layer (the source) is never changed, and it still sits above everything the job
 * writes, so on failure or cancel the disk reads exactly as before; only the layer below has
 * taken some of the top's sectors early. The dropped layer is not closed: the caller disposes of
 * it (closing, or `reset()` for a persistent layer). The old LayeredDisk must not be closed after
 * a commit (it would close the layers the new one uses).
 *
 * Errors: INVALID_INPUT for a stack of one layer or a lower layer smaller than the disk,
 * READ_ONLY when the layer below is read-only; the layers' errors (QUOTA, IO) fail the job.
 */
import { openDisk } from '../disk/open-disk.ts';
import { DiskError } from '../disk/errors.ts';
import type { Layer } from '../layered/layer.ts';
import { LayeredDisk, type LayerConfig } from '../layered/layered-disk.ts';
import { SectorBitmap } from '../layered/sector-bitmap.ts';
import { BaseJob } from './base-job.ts';
import { pieces } from './copy-runs.ts';
import { DirtyBitmap, type SectorRun } from './dirty-bitmap.ts';
import type { JobOptions } from './job.ts';
import type { TrackedDisk } from './tracked-disk.ts';

export interface CommitJobOptions extends JobOptions {
  readonly disk: LayeredDisk;
  /** The TrackedDisk over `disk` when the guest keeps writing during the commit. */
  readonly live?: TrackedDisk;
  /** Dirty-tracking granule for a live commit, in bytes. Default 64 KiB. */
  readonly granuleBytes?: number;
}

export interface CommitResult {
  /** The stack without its old top layer. */
  readonly disk: LayeredDisk;
  /** The old top layer, now redundant; not closed. */
  readonly dropped: Layer;
}

export class CommitJob extends BaseJob<CommitResult> {
  readonly kind = 'commit' as const;
  readonly #disk: LayeredDisk;
  readonly #live: TrackedDisk | undefined;
  readonly #granuleBytes: number;
  #buf: Uint8Array | undefined;
  /** Guest writes and unmaps under way, by "lba:count" (a multiset). */
  readonly #guestOps = new Map<string, number>();
  #guestWaiters: Array<() => void> = [];
  #piece: { readonly lba: number; readonly count: number; readonly done: Promise<void> } | undefined;

  constructor(options: CommitJobOptions) {
    super(options);
    this.#disk = options.disk;
    this.#live = options.live;
    this.#granuleBytes = options.granuleBytes ?? 64 * 1024;
  }

  protected async execute(): Promise<CommitResult> {
    const disk = this.#disk;
    const info = disk.layerInfo();
    if (info.length < 2) throw new DiskError('INVALID_INPUT', 'commit: the stack has no layer below the top');
    const top = info[0]!.layer;
    const below = info[1]!.layer;
    if (below.readOnly) throw new DiskError('READ_ONLY', `commit: the layer below the top (${below.layerType}) is read-only`);
    const sectors = disk.sectorCount();
    if (below.sectorCount() < sectors || info[1]!.visibleSectors < sectors) {
      throw new DiskError('INVALID_INPUT', `commit: the layer below holds ${below.sectorCount()} sectors, fewer than the disk's ${sectors}`);
    }
    const ss = disk.sectorSize;
    const chunkSectors = Math.max(1, Math.floor(this.chunkBytes / ss));
    this.#buf = new Uint8Array(chunkSectors * ss);
    const dirty = new DirtyBitmap(sectors, Math.max(1, Math.floor(this.#granuleBytes / ss)));
    const remove = this.#live?.addHook({
      before: async (lba, count) => {
        while (this.#piece && overlaps(this.#piece, lba, count)) await this.#piece.done;
        const key = `${lba}:${count}`;
        this.#guestOps.set(key, (this.#guestOps.get(key) ?? 0) + 1);
      },
      after: (lba, count) => {
        const key = `${lba}:${count}`;
        const n = (this.#guestOps.get(key) ?? 1) - 1;
        if (n > 0) this.#guestOps.set(key, n);
        else this.#guestOps.delete(key);
        dirty.mark(lba, count);
        for (const wake of this.#guestWaiters.splice(0)) wake();
      },
    });
    try {
      const runs = await disk.presence(0, 0, sectors);
      this.setTotal(runs.reduce((n, r) => n + r.count, 0) * ss);
      for (const run of pieces(runs, chunkSectors)) {
        await this.#commitRun(top, below, run);
        await this.piece(run.count * ss);
      }
      // Sectors the guest wrote meanwhile: commit what the top holds in each dirty granule.
      for (let run = dirty.first(chunkSectors); run; run = dirty.first(chunkSectors)) {
        dirty.clear(run.lba, run.count);
        const bytes = await this.#commitRange(top, below, run);
        this.addTotal(bytes);
        await this.piece(bytes);
      }
      const remaining: LayerConfig[] = info.slice(1).map((l) => ({ layer: l.layer, readCache: l.readCache, writeThrough: l.writeThrough }));
      const release = this.#live ? await this.#live.quiesce() : undefined;
      try {
        for (let run = dirty.first(chunkSectors); run; run = dirty.first(chunkSectors)) {
          dirty.clear(run.lba, run.count);
          this.account(await this.#commitRange(top, below, run));
        }
        await below.flush();
        const result = new LayeredDisk(remaining);
        this.#live?.switchTo(openDisk(result));
        return { disk: result, dropped: top };
      } finally {
        release?.();
      }
    } finally {
      remove?.();
      this.#buf = undefined;
    }
  }

  /** Commits what the top holds within `range`; returns the bytes it moved. */
  async #commitRange(top: Layer, below: Layer, range: SectorRun): Promise<number> {
    let bytes = 0;
    for (const run of await top.presence(range.lba, range.count)) {
      await this.#commitRun(top, below, run);
      bytes += run.count * top.sectorSize;
    }
    return bytes;
  }

  /** Runs one piece over [lba, lba + count) while no guest write or unmap there is under way. */
  async #commitRun(top: Layer, below: Layer, run: SectorRun & { readonly state?: 'zero' | 'data' }): Promise<void> {
    if (!this.#live) return this.#commitPiece(top, below, run);
    for (;;) {
      const busy = [...this.#guestOps.keys()].some((key) => {
        const [lba, count] = key.split(':').map(Number) as [number, number];
        return overlaps(run, lba, count);
      });
      if (!busy) break;
      await new Promise<void>((resolve) => this.#guestWaiters.push(resolve));
    }
    let finish!: () => void;
    this.#piece = { lba: run.lba, count: run.count, done: new Promise<void>((resolve) => (finish = resolve)) };
    try {
      await this.#commitPiece(top, below, run);
    } finally {
      this.#piece = undefined;
      finish();
    }
  }

  async #commitPiece(top: Layer, below: Layer, run: SectorRun & { readonly state?: 'zero' | 'data' }): Promise<void> {
    const ss = top.sectorSize;
    const view = this.#buf!.subarray(0, run.count * ss);
    if (run.state === 'zero') {
      if (below.unmapBehavior === 'zeroes') await below.unmap(run.lba, run.count, false);
      else await below.write(run.lba, view.fill(0));
      return;
    }
    // A data run's sectors may change state under a live guest; read what the top holds now
    // and write each marked run (zero-state sectors come back zero-filled, which is right).
    const marker = new SectorBitmap(run.lba, run.count);
    await top.read(run.lba, view, marker);
    for (const [lba, count] of marker.runs(true)) {
      await below.write(lba, view.subarray((lba - run.lba) * ss, (lba - run.lba + count) * ss));
    }
  }
}

function overlaps(run: SectorRun, lba: number, count: number): boolean {
  return run.lba < lba + count && lba < run.lba + run.count;
}
