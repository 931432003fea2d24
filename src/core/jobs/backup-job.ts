/**
 * BackupJob: a point-in-time copy of a live disk while the guest keeps writing (QEMU's backup
 * job with copy-before-write), full or incremental.
 *
 * The point in time is the moment the job starts: in the same synchronous step it decides which
 * granules to copy (`pending`) and attaches a `before` hook to the source's TrackedDisk. A guest
 * write or unmap that touches a pending granule first copies that granule's current (old) data
 * to the target, or waits for the copy already in flight; the background loop copies the other
 * pending granules in order. So every granule reaches the target as it was at the start.
 *
 * - Full (`mode: 'full'`, default): every granule; with `targetIsZero` (default) granules the
 *   source's stack does not allocate are skipped, and all-zero blocks are not written.
 * - Incremental (`mode: 'incremental'`, `bitmap` required): only the granules dirty in `bitmap`
 *   (kept by `trackDirty` since the last backup). At start the bitmap is frozen into `pending` and
 *   cleared, so it collects the writes for the next increment. Every changed granule is written,
 *   zeroes included, because the target is usually a differencing image over the last backup
 *   (vhd-backup-target.ts) where zeroes must hide the parent's old data.
 *   A full backup given a `bitmap` clears it at start too: it begins a new chain.
 * If the job fails or is cancelled, the frozen granules are merged back into the bitmap, so the
 * next incremental backup still covers them.
 *
 * Safety: the source is only read; a copy-before-write failure never fails the guest's write:
 * it fails the job (the target can no longer be point-in-time), and the hook goes away.
 * Errors: INVALID_INPUT for mismatched geometry or a missing bitmap, READ_ONLY for a read-only
 * target, the target's errors (QUOTA, IO) as the job's failure.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { allocationOf } from './allocation.ts';
import { BaseJob } from './base-job.ts';
import { checkSameGeometry, pieces, writeChunk } from './copy-runs.ts';
import { DirtyBitmap, type SectorRun } from './dirty-bitmap.ts';
import type { JobOptions } from './job.ts';
import type { TrackedDisk } from './tracked-disk.ts';

export interface BackupJobOptions extends JobOptions {
  readonly source: TrackedDisk;
  readonly target: Disk;
  readonly mode?: 'full' | 'incremental';
  /** The dirty bitmap tracking writes since the last backup (see `trackDirty`). */
  readonly bitmap?: DirtyBitmap;
  /** The target reads as zero before the job. Default: true for full, false for incremental. */
  readonly targetIsZero?: boolean;
  /** Copy granule in bytes when there is no bitmap. Default 64 KiB. */
  readonly granuleBytes?: number;
}

/** Keeps `bitmap` marked with every completed write and unmap of `disk`; returns the detach function. */
export function trackDirty(disk: TrackedDisk, bitmap: DirtyBitmap): () => void {
  return disk.addHook({ after: (lba, count) => bitmap.mark(lba, count) });
}

interface InFlight {
  readonly lba: number;
  readonly count: number;
  readonly done: Promise<void>;
}

export class BackupJob extends BaseJob<void> {
  readonly kind: 'backup' | 'incremental-backup';
  readonly #source: TrackedDisk;
  readonly #target: Disk;
  readonly #bitmap: DirtyBitmap | undefined;
  readonly #incremental: boolean;
  readonly #targetIsZero: boolean;
  readonly #granuleBytes: number;
  #pending: DirtyBitmap | undefined;
  #chunkSectors = 1;
  readonly #inFlight = new Set<InFlight>();
  #failure: unknown;

  constructor(options: BackupJobOptions) {
    super(options);
    this.#source = options.source;
    this.#target = options.target;
    this.#bitmap = options.bitmap;
    this.#incremental = options.mode === 'incremental';
    this.kind = this.#incremental ? 'incremental-backup' : 'backup';
    this.#targetIsZero = options.targetIsZero ?? !this.#incremental;
    this.#granuleBytes = options.granuleBytes ?? 64 * 1024;
  }

  protected async execute(): Promise<void> {
    const source = this.#source;
    const target = this.#target;
    const mismatch = checkSameGeometry(this.kind, source, target);
    if (mismatch) throw new DiskError('INVALID_INPUT', mismatch);
    if (target.readOnly) throw new DiskError('READ_ONLY', `${this.kind}: the target is read-only`);
    if (this.#incremental && !this.#bitmap) throw new DiskError('INVALID_INPUT', 'incremental backup: no dirty bitmap to take the changes from');
    const ss = source.sectorSize;
    const sectors = source.sectorCount();
    const granule = this.#bitmap?.granuleSectors ?? Math.max(1, Math.floor(this.#granuleBytes / ss));
    // The point in time: from here to the hook being attached there is no await.
    const pending = new DirtyBitmap(sectors, granule);
    const frozen = this.#bitmap?.clone();
    if (this.#incremental) pending.merge(frozen!);
    else pending.markAll();
    this.#bitmap?.clearAll();
    this.#pending = pending;
    const remove = source.addHook({ before: (lba, count) => this.#beforeWrite(lba, count) });
    const chunkSectors = Math.max(granule, Math.floor(this.chunkBytes / ss / granule) * granule);
    this.#chunkSectors = chunkSectors;
    try {
      if (this.#targetIsZero && !this.#incremental) await this.#dropHoles(pending, granule);
      this.setTotal(pending.dirtySectors() * ss);
      for (let run = pending.first(chunkSectors); run; run = pending.first(chunkSectors)) {
        await this.#startCopy(run);
        this.#throwIfFailed();
        await this.piece(run.count * ss);
      }
      await Promise.all([...this.#inFlight].map((f) => f.done));
      this.#throwIfFailed();
      await target.flush();
    } catch (e) {
      if (frozen) this.#bitmap!.merge(frozen);
      throw e;
    } finally {
      remove();
      await Promise.allSettled([...this.#inFlight].map((f) => f.done));
    }
  }

  /** Removes from `pending` the granules the source's stack holds no data in (they read zero). */
  async #dropHoles(pending: DirtyBitmap, granule: number): Promise<void> {
    const sectors = pending.sectors;
    const allocated = new DirtyBitmap(sectors, granule);
    for (const run of await allocationOf(this.#source)(0, sectors)) allocated.mark(run.lba, run.count);
    let at = 0;
    for (const run of [...allocated.runs(), { lba: sectors, count: 0 }]) {
      if (run.lba > at) pending.clear(at, run.lba - at); // a whole-granule hole: nothing to copy
      at = run.lba + run.count;
    }
  }

  /** Copy-before-write: the old data of every pending granule the write touches reaches the target first. */
  async #beforeWrite(lba: number, count: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const f of this.#inFlight) if (f.lba < lba + count && lba < f.lba + f.count) waits.push(f.done);
    for (const run of this.#pending!.runs(lba, count)) {
      for (const p of pieces([run], this.#chunkSectors)) {
        waits.push(this.#startCopy(p).then(() => this.account(p.count * this.#source.sectorSize)));
      }
    }
    const results = await Promise.allSettled(waits);
    for (const r of results) if (r.status === 'rejected') this.#failure ??= r.reason;
  }

  /** Takes `run` (whole pending granules) out of `pending` and copies it; the promise settles when the target has it. */
  #startCopy(run: SectorRun): Promise<void> {
    this.#pending!.clear(run.lba, run.count);
    const entry: InFlight = { lba: run.lba, count: run.count, done: this.#copy(run) };
    this.#inFlight.add(entry);
    void entry.done.then(
      () => this.#inFlight.delete(entry),
      () => this.#inFlight.delete(entry),
    );
    return entry.done;
  }

  async #copy(run: SectorRun): Promise<void> {
    const buf = new Uint8Array(run.count * this.#source.sectorSize);
    await this.#source.current.read(run.lba, buf);
    await writeChunk(this.#target, run.lba, buf, this.#targetIsZero);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
