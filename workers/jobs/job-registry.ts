/**
 * The disk worker's jobs (workers/storage-api.ts `JobsApi`): starts core jobs (src/core/jobs) on
 * open stacks, keeps each job's snapshot for the page to poll, and passes control calls on.
 *
 * How a job meets the live stack, without the stack knowing: the stack's SwitchableDisk is
 * pointed at a TrackedDisk over what it forwarded to, so the job sees every guest write (backup's
 * copy-before-write, mirror's and commit's dirty bitmaps), and pointed back when the job ends.
 * - commit (stack without overlays, top layer resettable): live CommitJob; when it has switched
 *   the guest to the shorter stack, the dropped top is reset (emptied, flushed) and the stack is
 *   pointed back at the full layered disk, which now reads the same with an empty top. So the
 *   stack's tree and occupancy stay true, and the persistent diff keeps taking new writes.
 * - stream: StreamJob on the layered disk (write-no-overwrite: racing guest writes win).
 * - mirror: MirrorJob into a new raw image; once `ready` the page may `complete` it, which
 *   switches the stack's I/O to the image. The image stays open until its stack is closed.
 * - backup: full BackupJob into a new raw image (point in time = start). With `mode: 'full'` into
 *   a new dynamic VHD that starts the stack's incremental chain (backup-chain.ts: the stack then
 *   keeps writing through a TrackedDisk that marks a dirty bitmap); `mode: 'incremental'` backs up
 *   the bitmap's granules into a new differencing VHD over the chain's last backup.
 * - export: ExportJob into a new raw, dynamic VHD or qcow2 image (holes are never written).
 * If the stack is recomposed (an overlay added or removed) while a tracked job runs, the job's
 * hook no longer sees the guest's writes: the job is cancelled and says so.
 * A failed or cancelled job's partial output image is deleted; the source is never written
 * (commit writes the layer below, which is allowed by the commit contract).
 *
 * Errors: `startJob` rejects with INVALID_INPUT (unknown stack, overlays present, not layered),
 * UNSUPPORTED (top layer cannot be reset), name errors and storage errors (LOCKED, QUOTA) before
 * the job starts; after that a failure is the job's `error` (a QUOTA stays QUOTA).
 */
import type { Disk } from '../../src/core/disk/disk.ts';
import { asDiskError, DiskError } from '../../src/core/disk/errors.ts';
import { openDisk } from '../../src/core/disk/open-disk.ts';
import { openFormat } from '../../src/core/formats/open-format.ts';
import { imageFileFromSync } from '../../src/core/formats/image-file.ts';
import { allocationOf } from '../../src/core/jobs/allocation.ts';
import { BackupJob } from '../../src/core/jobs/backup-job.ts';
import { CommitJob } from '../../src/core/jobs/commit-job.ts';
import { diskSink, ExportJob, syncFileSink } from '../../src/core/jobs/export-job.ts';
import type { Job } from '../../src/core/jobs/job.ts';
import { TERMINAL_STATES } from '../../src/core/jobs/job.ts';
import { MirrorJob } from '../../src/core/jobs/mirror-job.ts';
import { StreamJob } from '../../src/core/jobs/stream-job.ts';
import { TrackedDisk } from '../../src/core/jobs/tracked-disk.ts';
import { createFullVhdTarget } from '../../src/core/jobs/vhd-backup-target.ts';
import { LayeredDisk } from '../../src/core/layered/layered-disk.ts';
import type { SyncFile } from '../../src/core/ports/sync-file.ts';
import { createQcow2Target } from '../../src/core/jobs/qcow2-export-target.ts';
import { createIncrementalVhdTarget } from '../../src/core/jobs/vhd-backup-target.ts';
import type { StackId } from '../api.ts';
import type { JobAction, JobInfo, JobRequest, JobsApi } from '../storage-api.ts';
import type { LiveStack } from '../stack/live-stack.ts';
import { createLabImage, openLabFile, removeLabImage } from '../platform/opfs-layers.ts';
import { BackupChain } from './backup-chain.ts';

/** How often a tracked job checks that the stack still writes through its TrackedDisk. */
const RECOMPOSE_POLL_MS = 50;

interface Running {
  readonly id: string;
  readonly stackId: StackId;
  readonly label: string;
  readonly job: Job<unknown>;
  speedLimit: number | undefined;
  output?: { readonly name: string; readonly path: string };
  note?: string;
  ended: Promise<void>;
}

interface Resettable {
  reset(): Promise<void>;
  flush(): Promise<void>;
}

function isResettable(layer: unknown): layer is Resettable {
  return typeof (layer as { reset?: unknown }).reset === 'function';
}

export class JobRegistry {
  readonly #jobs = new Map<string, Running>();
  /** Disks a mirror switched a stack to: closed with the stack. */
  readonly #adopted = new Map<StackId, Disk[]>();
  /** Each stack's incremental backup chain, from its last full VHD backup. */
  readonly #chains = new Map<StackId, BackupChain>();
  #next = 1;

  constructor(private readonly stackOf: (id: StackId) => LiveStack) {}

  api(): JobsApi {
    return {
      startJob: (stackId, request, options) => this.start(stackId, request, options?.speedLimit),
      listJobs: async () => [...this.#jobs.values()].map((r) => this.#info(r)),
      jobControl: async (id, action) => this.#control(id, action),
      setJobSpeedLimit: async (id, bps) => {
        const r = this.#get(id);
        r.speedLimit = bps === undefined || bps <= 0 ? undefined : bps;
        r.job.setSpeedLimit(r.speedLimit);
        return this.#info(r);
      },
      waitForJob: async (id) => {
        const r = this.#get(id);
        await r.ended;
        return this.#info(r);
      },
    };
  }

  /** Cancels the stack's running jobs and closes disks a mirror switched it to (call before closing the stack). */
  async stackClosing(stackId: StackId): Promise<void> {
    const mine = [...this.#jobs.values()].filter((r) => r.stackId === stackId);
    for (const r of mine) r.job.cancel();
    await Promise.all(mine.map((r) => r.ended));
    for (const d of this.#adopted.get(stackId) ?? []) await d.close().catch(() => undefined);
    this.#adopted.delete(stackId);
    await this.#chains.get(stackId)?.end(undefined);
    this.#chains.delete(stackId);
  }

  async start(stackId: StackId, request: JobRequest, speedLimit: number | undefined): Promise<JobInfo> {
    const stack = this.stackOf(stackId);
    const id = `job-${this.#next++}`;
    const opts = { speedLimit: speedLimit && speedLimit > 0 ? speedLimit : undefined };
    const switchable = stack.switchable;
    const chain = this.#chains.get(stackId);
    if (chain && !chain.valid(stack)) {
      // The stack was recomposed since the last backup: the bitmap has missed writes.
      await chain.end(undefined);
      this.#chains.delete(stackId);
    }
    if (request.kind === 'backup' && request.mode !== undefined) return this.#startChainBackup(id, stack, stackId, request.target, request.mode, opts);
    if ((request.kind === 'commit' || request.kind === 'stream') && this.#chains.has(stackId)) {
      // These take the stack over with their own TrackedDisk: the chain could not see the writes.
      await this.#chains.get(stackId)!.end(stack);
      this.#chains.delete(stackId);
    }
    const base = switchable.target;
    let run: Running;
    const register = (job: Job<unknown>, label: string, body: () => Promise<void>): Running => {
      const r: Running = { id, stackId, label, job, speedLimit: opts.speedLimit, ended: Promise.resolve() };
      r.ended = body().catch(() => undefined); // the job's own state and error say what happened
      this.#jobs.set(id, r);
      return r;
    };
    switch (request.kind) {
      case 'commit':
      case 'stream': {
        const layered = layeredOf(stack, request.kind);
        if (request.kind === 'stream') {
          const job = new StreamJob({ ...opts, disk: layered });
          run = register(job, `stream into the top layer of ${stack.name}`, async () => {
            await job.start();
          });
          break;
        }
        const top = layered.layerInfo()[0]?.layer;
        if (!isResettable(top)) {
          throw new DiskError('UNSUPPORTED', `commit in the page needs a persistent diff layer on top of ${stack.name} (a RAM diff cannot be emptied afterwards)`);
        }
        const tracked = new TrackedDisk(layered);
        await switchable.switchTo(tracked);
        const job = new CommitJob({ ...opts, disk: layered, live: tracked });
        run = register(job, `commit the top layer of ${stack.name} into the layer below`, async () => {
          const watch = watchRecompose(switchable, tracked, job);
          try {
            await job.start();
            if (switchable.target !== tracked) {
              // Recomposed at the last moment: the guest may write to the top again, so keep it.
              run.note = 'the stack changed as the commit ended: the diff layer was kept (the disk reads the same)';
              return;
            }
            // The guest now writes to the shorter stack, never to the old top: empty it, then go back.
            await top.reset();
            await top.flush();
            run.note = 'committed; the persistent diff layer is now empty and takes new writes';
          } catch (e) {
            if (switchable.target !== tracked) run.note = 'the stack changed during the job, so it was stopped';
            throw e;
          } finally {
            clearInterval(watch);
            if (switchable.target === tracked) await switchable.switchTo(layered);
          }
        });
        break;
      }
      case 'mirror':
      case 'backup': {
        const target = await this.#newImage(request.target, base.sectorCount() * base.sectorSize);
        const tracked = new TrackedDisk(base);
        await switchable.switchTo(tracked);
        const job =
          request.kind === 'mirror'
            ? new MirrorJob({ ...opts, source: tracked, target: target.disk })
            : new BackupJob({ ...opts, source: tracked, target: target.disk });
        const verb = request.kind === 'mirror' ? 'mirror' : 'back up';
        run = register(job, `${verb} ${stack.name} to ${request.target}`, async () => {
          const watch = watchRecompose(switchable, tracked, job);
          try {
            await job.start();
            await target.disk.flush();
            run.output = { name: request.target, path: target.path };
            if (request.kind === 'mirror' && switchable.target === tracked) {
              this.#adopted.set(stackId, [...(this.#adopted.get(stackId) ?? []), target.disk]);
              run.note = `the stack now reads and writes ${request.target}; reopen it to see it in the tree`;
              return; // the stack stays on the TrackedDisk, switched to the image
            }
            await target.disk.close();
          } catch (e) {
            await target.disk.close().catch(() => undefined);
            await removeLabImage(request.target);
            if (switchable.target !== tracked) run.note = 'the stack changed during the job, so it was stopped';
            throw e;
          } finally {
            clearInterval(watch);
            if (switchable.target === tracked && tracked.current === base) await switchable.switchTo(base);
          }
        });
        break;
      }
      case 'export': {
        const source = openDisk(switchable);
        const size = source.sectorCount() * source.sectorSize;
        const made = await this.#newFile(request.target);
        let vhd: Disk | undefined;
        try {
          const image = () => imageFileFromSync(made.file, { name: made.path, writable: true });
          if (request.format === 'vhd') vhd = await createFullVhdTarget(image(), size);
          else if (request.format === 'qcow2') vhd = await createQcow2Target(image(), size);
        } catch (e) {
          closeFile(made.file);
          await removeLabImage(request.target);
          throw e;
        }
        const sink = vhd ? diskSink(vhd) : syncFileSink(made.file, made.path);
        const job = new ExportJob({ ...opts, source, sink, allocation: allocationOf(base) });
        const what = request.format === 'vhd' ? 'dynamic VHD' : request.format;
        run = register(job, `export ${stack.name} as ${what} to ${request.target}`, async () => {
          let failure: unknown;
          try {
            await job.start();
            run.output = { name: request.target, path: made.path };
          } catch (e) {
            failure = e;
          }
          // Closed before the partial output is removed: OPFS will not delete a file a handle holds.
          if (vhd) await vhd.close().catch(() => undefined);
          closeFile(made.file);
          if (failure !== undefined) {
            await removeLabImage(request.target);
            throw failure;
          }
        });
        break;
      }
      default:
        throw new DiskError('INVALID_INPUT', `unknown job kind '${String((request as { kind?: unknown }).kind)}'`);
    }
    void run.job.start().catch(() => undefined);
    return this.#info(run);
  }

  /**
   * Full (a new dynamic VHD that starts the chain) or incremental (a differencing VHD over the
   * chain's last backup, from the dirty bitmap) backup. The stack keeps writing through the
   * chain's TrackedDisk afterwards; a failed full backup ends the chain.
   */
  async #startChainBackup(
    id: string, stack: LiveStack, stackId: StackId, target: string, mode: 'full' | 'incremental', opts: { speedLimit: number | undefined },
  ): Promise<JobInfo> {
    let chain = this.#chains.get(stackId);
    if (mode === 'incremental' && !chain?.last) {
      throw new DiskError('INVALID_INPUT', `no full backup of ${stack.name} to base an incremental one on (or the stack changed since): take a full backup first`);
    }
    if (mode === 'full' && !chain) {
      const tracked = new TrackedDisk(stack.switchable.target);
      await stack.switchable.switchTo(tracked);
      chain = new BackupChain(tracked);
      this.#chains.set(stackId, chain);
    }
    const theChain = chain!;
    const source = theChain.tracked;
    const size = source.sectorCount() * source.sectorSize;
    const made = await this.#newFile(target);
    let disk: Disk;
    try {
      const image = imageFileFromSync(made.file, { name: made.path, writable: true });
      if (mode === 'full') {
        disk = await createFullVhdTarget(image, size);
      } else {
        const last = theChain.last!;
        const parentFile = await openLabFile(last.path, { readOnly: true });
        try {
          disk = await createIncrementalVhdTarget(image, { file: imageFileFromSync(parentFile, { name: last.path, writable: false }), name: last.name });
        } finally {
          closeFile(parentFile);
        }
      }
    } catch (e) {
      closeFile(made.file);
      await removeLabImage(target);
      throw e;
    }
    const job = new BackupJob({ ...opts, source, target: disk, mode, bitmap: theChain.bitmap });
    const label = mode === 'full' ? `full backup of ${stack.name} to ${target} (dynamic VHD, starts an incremental chain)` : `incremental backup of ${stack.name} to ${target} (differencing VHD over ${theChain.last!.name})`;
    const r: Running = { id, stackId, label, job, speedLimit: opts.speedLimit, ended: Promise.resolve() };
    r.ended = (async () => {
      let failure: unknown;
      const watch = watchRecompose(stack.switchable, source, job);
      try {
        await job.start();
        await disk.flush();
        r.output = { name: target, path: made.path };
        theChain.last = r.output;
        r.note = `writes are tracked: the next incremental backup goes over ${target} and copies only what changed`;
      } catch (e) {
        failure = e;
        if (!theChain.valid(stack)) r.note = 'the stack changed during the job, so it was stopped';
      } finally {
        clearInterval(watch);
      }
      await disk.close().catch(() => undefined);
      closeFile(made.file);
      if (failure !== undefined) {
        await removeLabImage(target);
        if (mode === 'full' && theChain.last === undefined && this.#chains.get(stackId) === theChain) {
          await theChain.end(stack);
          this.#chains.delete(stackId);
        }
        throw failure;
      }
    })().catch(() => undefined);
    this.#jobs.set(id, r);
    void job.start().catch(() => undefined);
    return this.#info(r);
  }

  async #newFile(name: string): Promise<{ file: SyncFile; path: string }> {
    return createLabImage(name);
  }

  async #newImage(name: string, sizeBytes: number): Promise<{ disk: Disk; path: string }> {
    const { file, path } = await this.#newFile(name);
    try {
      file.truncate(sizeBytes);
      return { disk: openFormat(file, 'raw', { readOnly: false, name: path }), path };
    } catch (e) {
      closeFile(file);
      await removeLabImage(name);
      throw e;
    }
  }

  #get(id: string): Running {
    const r = this.#jobs.get(id);
    if (!r) throw new DiskError('INVALID_INPUT', `no job '${id}'`);
    return r;
  }

  #control(id: string, action: JobAction): JobInfo {
    const r = this.#get(id);
    if (action === 'pause') r.job.pause();
    else if (action === 'resume') r.job.resume();
    else if (action === 'cancel') r.job.cancel();
    else if (action === 'complete') r.job.complete();
    else throw new DiskError('INVALID_INPUT', `unknown job action '${String(action)}'`);
    return this.#info(r);
  }

  #info(r: Running): JobInfo {
    const p = r.job.progress();
    const err = r.job.error;
    return {
      id: r.id, kind: r.job.kind, stackId: r.stackId, label: r.label, state: p.state,
      bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds, speedLimit: r.speedLimit,
      ...(err ? { error: { code: err.code, message: err.message } } : {}),
      ...(r.output ? { output: r.output } : {}),
      ...(r.note ? { note: r.note } : {}),
    };
  }
}

/**
 * Cancels `job` as soon as the stack stops forwarding to `tracked` (an overlay was added or
 * removed): from then on the job's hooks miss the guest's writes. Polled: LiveStack has no event.
 */
function watchRecompose(switchable: LiveStack['switchable'], tracked: TrackedDisk, job: Job<unknown>): ReturnType<typeof setInterval> {
  return setInterval(() => {
    if (switchable.target !== tracked && !TERMINAL_STATES.includes(job.state)) job.cancel();
  }, RECOMPOSE_POLL_MS);
}

function layeredOf(stack: LiveStack, what: string): LayeredDisk {
  if (stack.overlays.length > 0) {
    throw new DiskError('INVALID_INPUT', `${what} works on the stack as opened: remove the overlays added on ${stack.name} first`);
  }
  const target = stack.switchable.target;
  if (!(target instanceof LayeredDisk) || target.layerInfo().length < 2) {
    throw new DiskError('INVALID_INPUT', `${what} needs a layered stack of at least two layers (${stack.name} is not one)`);
  }
  return target;
}

function closeFile(file: SyncFile): void {
  try {
    file.close();
  } catch (e) {
    void asDiskError(e, 'close'); // already ending; nothing more to report
  }
}
