/**
 * MirrorJob: copies a live disk to a target while the guest keeps writing, then switches over
 * (QEMU's drive-mirror in its default background mode).
 *
 * 1. A hook on the source's TrackedDisk marks every completed write and unmap in a dirty bitmap.
 * 2. First pass: every allocated granule of the source (allocation.ts) is copied; holes are
 *    skipped when the target reads as zero (`targetIsZero`, a fresh image), else written too.
 * 3. Then dirty granules are re-copied, each cleared just before it is read, so a write that
 *    lands after the read dirties it again. When no granule is dirty the job is `ready`: it keeps
 *    copying what the guest dirties and waits for `complete()`.
 * 4. On `complete()`: the source is quiesced (new writes wait, those in flight finish), the last
 *    dirty granules are copied, the target flushed, and with `switchOver` (default) the
 *    TrackedDisk sends all further I/O to the target; then writes are let go.
 * At that moment the target holds exactly what the source holds.
 *
 * Safety: the source is only read; on cancel or failure the hook is removed and the source is
 * as the guest left it. Errors: geometry mismatch INVALID_INPUT, read-only target READ_ONLY,
 * the target's failures (QUOTA, IO) fail the job.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { allocationOf } from './allocation.ts';
import { BaseJob } from './base-job.ts';
import { checkSameGeometry, pieces, writeChunk } from './copy-runs.ts';
import { DirtyBitmap, type SectorRun } from './dirty-bitmap.ts';
import type { JobOptions } from './job.ts';
import type { TrackedDisk } from './tracked-disk.ts';

export interface MirrorJobOptions extends JobOptions {
  readonly source: TrackedDisk;
  readonly target: Disk;
  /** The target reads as zero everywhere before the job (a freshly created image). Default true. */
  readonly targetIsZero?: boolean;
  /** Dirty-tracking granule in bytes (a power of two, at least a sector). Default 64 KiB. */
  readonly granuleBytes?: number;
  /** On complete, send the source's I/O to the target. Default true. */
  readonly switchOver?: boolean;
}

export class MirrorJob extends BaseJob<void> {
  readonly kind = 'mirror' as const;
  readonly #source: TrackedDisk;
  readonly #target: Disk;
  readonly #targetIsZero: boolean;
  readonly #granuleBytes: number;
  readonly #switchOver: boolean;
  #buf: Uint8Array | undefined;

  constructor(options: MirrorJobOptions) {
    super(options);
    this.#source = options.source;
    this.#target = options.target;
    this.#targetIsZero = options.targetIsZero ?? true;
    this.#granuleBytes = options.granuleBytes ?? 64 * 1024;
    this.#switchOver = options.switchOver ?? true;
  }

  protected async execute(): Promise<void> {
    const source = this.#source;
    const target = this.#target;
    const mismatch = checkSameGeometry('mirror', source, target);
    if (mismatch) throw new DiskError('INVALID_INPUT', mismatch);
    if (target.readOnly) throw new DiskError('READ_ONLY', 'mirror: the target is read-only');
    const ss = source.sectorSize;
    const granule = Math.max(1, Math.floor(this.#granuleBytes / ss));
    const dirty = new DirtyBitmap(source.sectorCount(), granule);
    const chunkSectors = Math.max(granule, Math.floor(this.chunkBytes / ss / granule) * granule);
    this.#buf = new Uint8Array(chunkSectors * ss);
    const remove = source.addHook({
      after: (lba, count) => {
        dirty.mark(lba, count);
        this.wake();
      },
    });
    try {
      // The first pass works on whole granules, so clearing a piece's granules never clears
      // a dirty mark outside what this piece copies.
      const first = new DirtyBitmap(source.sectorCount(), granule);
      if (this.#targetIsZero) for (const run of await allocationOf(source)(0, source.sectorCount())) first.mark(run.lba, run.count);
      else first.markAll();
      const runs = first.runs();
      this.setTotal(runs.reduce((n, r) => n + r.count, 0) * ss);
      for (const run of pieces(runs, chunkSectors)) {
        dirty.clear(run.lba, run.count);
        await this.#copy(run, this.#targetIsZero);
        await this.piece(run.count * ss);
      }
      for (;;) {
        await this.#drain(dirty, chunkSectors, true);
        if (this.completeRequested) break;
        await this.waitReady();
      }
      const release = await source.quiesce();
      try {
        await this.#drain(dirty, chunkSectors, false);
        await target.flush();
        if (this.#switchOver) source.switchTo(target);
      } finally {
        release();
      }
    } finally {
      remove();
      this.#buf = undefined;
    }
  }

  /** Copies dirty granules until none is left; `throttled` pieces honour the limit and pause. */
  async #drain(dirty: DirtyBitmap, chunkSectors: number, throttled: boolean): Promise<void> {
    const ss = this.#source.sectorSize;
    for (let run = dirty.first(chunkSectors); run; run = dirty.first(chunkSectors)) {
      dirty.clear(run.lba, run.count);
      this.addTotal(run.count * ss);
      await this.#copy(run, false);
      if (throttled) await this.piece(run.count * ss);
      else this.account(run.count * ss);
    }
  }

  async #copy(run: SectorRun, targetReadsZero: boolean): Promise<void> {
    const view = this.#buf!.subarray(0, run.count * this.#source.sectorSize);
    await this.#source.read(run.lba, view);
    await writeChunk(this.#target, run.lba, view, targetReadsZero);
  }
}
