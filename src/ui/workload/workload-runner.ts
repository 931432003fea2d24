/**
 * One workload at a time against one stack, and what the page knows about it while it runs.
 *
 * With shared memory the disk worker attaches an emulated controller to the stack and hands back
 * its SharedArrayBuffers; the guest worker attaches to them and runs the job, blocking on Atomics.
 * The page reads the stats buffer with `readControllerStats` on every animation frame (`tick`), so
 * no message is sent per I/O. Stopping sets the run's stop word (workers/guest-stop.ts): a guest
 * blocked in Atomics.wait cannot read a message, but it checks the word between completions and
 * ends the job early with `aborted` set. The controller is detached when the job has ended.
 *
 * Without cross-origin isolation the job runs inside the disk worker (`runWorkloadInline`), the
 * stats are fetched a few times a second with `controllerStats` instead, and stopping is the
 * `stopInlineWorkload` call.
 *
 * State is exposed for `useSyncExternalStore`: `getView` returns the same object until something
 * changes. Failures never throw out of `start`/`stop`; they end the run in the 'failed' phase with
 * the error's text (DiskError code first).
 */
import { readControllerStats, type ControllerStatsSnapshot } from '../../core/controller/stats.ts';
import type { JobSpec } from '../../core/workload/job.ts';
import type { WorkloadResult } from '../../core/workload/results.ts';
import type { ControllerOptions, StackId } from '../../../workers/api.ts';
import { createStopBuffer, requestStop } from '../../../workers/guest-stop.ts';
import { describeError } from '../format.ts';
import type { LabClient } from '../lab/lab-client.ts';
import { intervalHistogram } from './interval.ts';

export type WorkloadPhase = 'idle' | 'running' | 'stopping' | 'done' | 'failed';

/** One point of the time series: rates over the interval that ends at `t`. */
export interface LiveSample {
  /** Seconds since the run started. */
  readonly t: number;
  readonly iops: number;
  readonly bytesPerSecond: number;
  /** Completion latency percentiles over the interval, ns; undefined when nothing completed. */
  readonly p50Ns: number | undefined;
  readonly p99Ns: number | undefined;
}

export interface WorkloadView {
  readonly phase: WorkloadPhase;
  readonly mode: 'shared' | 'inline';
  readonly stackId: StackId | undefined;
  readonly job: JobSpec | undefined;
  readonly options: ControllerOptions | undefined;
  readonly stats: ControllerStatsSnapshot | undefined;
  readonly samples: readonly LiveSample[];
  readonly result: WorkloadResult | undefined;
  readonly error: string | undefined;
}

const SAMPLE_INTERVAL_MS = 500;
const INLINE_POLL_MS = 250;
const MAX_SAMPLES = 600;

export class WorkloadRunner {
  readonly #client: LabClient;
  readonly #listeners = new Set<() => void>();
  #view: WorkloadView;
  #statsBuffer: SharedArrayBuffer | undefined;
  #stopWord: SharedArrayBuffer | undefined;
  #startMs = 0;
  #lastSample: { ms: number; ops: number; bytes: number; hists: Float64Array[] } | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  /** Called when a run ends, so the page can re-read what the workload changed. */
  onFinished: (() => void) | undefined;

  constructor(client: LabClient) {
    this.#client = client;
    this.#view = { phase: 'idle', mode: client.sharedMemory ? 'shared' : 'inline', stackId: undefined, job: undefined, options: undefined, stats: undefined, samples: [], result: undefined, error: undefined };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getView = (): WorkloadView => this.#view;

  get running(): boolean {
    return this.#view.phase === 'running' || this.#view.phase === 'stopping';
  }

  async start(stackId: StackId, job: JobSpec, options: ControllerOptions): Promise<void> {
    if (this.running) return;
    const mode = this.#client.sharedMemory ? 'shared' : 'inline';
    this.#statsBuffer = undefined;
    this.#lastSample = undefined;
    this.#startMs = performance.now();
    this.#set({ phase: 'running', mode, stackId, job, options, stats: undefined, samples: [], result: undefined, error: undefined });
    try {
      const result = mode === 'shared' ? await this.#runShared(stackId, job, options) : await this.#runInline(stackId, job, options);
      this.tick(performance.now(), true);
      this.#set({ phase: 'done', result });
    } catch (error) {
      this.tick(performance.now(), true);
      this.#set({ phase: 'failed', error: describeError(error) });
    } finally {
      if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
      this.#pollTimer = undefined;
      this.onFinished?.();
    }
  }

  async stop(): Promise<void> {
    const { phase, stackId } = this.#view;
    if (phase !== 'running' || stackId === undefined) return;
    this.#set({ phase: 'stopping' });
    try {
      if (this.#view.mode === 'shared') {
        if (this.#stopWord) requestStop(this.#stopWord);
      } else {
        await this.#client.disk.stopInlineWorkload(stackId);
      }
    } catch (error) {
      this.#set({ error: `Stop failed: ${describeError(error)}` });
    }
  }

  /** Reads the live stats (shared mode) and samples the time series; call once per animation frame. */
  tick(nowMs: number, final = false): void {
    if (this.#statsBuffer !== undefined) this.#view = { ...this.#view, stats: readControllerStats(this.#statsBuffer) };
    const stats = this.#view.stats;
    if (stats !== undefined) this.#sample(stats, nowMs, final);
    this.#emit();
  }

  async #runShared(stackId: StackId, job: JobSpec, options: ControllerOptions): Promise<WorkloadResult> {
    const disk = this.#client.disk;
    const buffers = await disk.attachController(stackId, options);
    this.#statsBuffer = buffers.stats;
    const stop = createStopBuffer();
    this.#stopWord = stop;
    let result: WorkloadResult;
    try {
      const guest = this.#client.guest();
      await guest.attach(buffers, stop);
      // A stop pressed while attaching must still stop the job.
      if (this.#view.phase === 'stopping') requestStop(stop);
      result = await guest.run(job);
    } catch (error) {
      // The run's own failure is the one to report; a detach failing after it would only hide it.
      await disk.detachController(stackId).catch(() => undefined);
      throw error;
    } finally {
      this.#stopWord = undefined;
    }
    await disk.detachController(stackId);
    return result;
  }

  async #runInline(stackId: StackId, job: JobSpec, options: ControllerOptions): Promise<WorkloadResult> {
    const disk = this.#client.disk;
    this.#pollTimer = setInterval(() => {
      void disk.controllerStats(stackId).then(
        (stats) => {
          if (stats !== undefined && this.running) {
            this.#view = { ...this.#view, stats };
            this.tick(performance.now());
          }
        },
        () => undefined, // a poll that misses is retried on the next interval; the run reports real failures
      );
    }, INLINE_POLL_MS);
    const result = await disk.runWorkloadInline(stackId, options, job);
    const last = await disk.controllerStats(stackId).catch(() => undefined);
    if (last !== undefined) this.#view = { ...this.#view, stats: last };
    return result;
  }

  #sample(stats: ControllerStatsSnapshot, nowMs: number, final: boolean): void {
    const ops = stats.ops.read.ops + stats.ops.write.ops;
    const bytes = stats.ops.read.bytes + stats.ops.write.bytes;
    const hists = [stats.ops.read.latency.storage.slice(), stats.ops.write.latency.storage.slice()];
    const prev = this.#lastSample;
    if (prev === undefined) {
      this.#lastSample = { ms: this.#startMs, ops: 0, bytes: 0, hists: [] };
      return this.#sample(stats, nowMs, final);
    }
    const dt = (nowMs - prev.ms) / 1000;
    // The last, partial interval is kept only if long enough to give a rate worth plotting.
    if (nowMs - prev.ms < (final ? SAMPLE_INTERVAL_MS / 2 : SAMPLE_INTERVAL_MS)) return;
    const interval = intervalHistogram(hists.map((after, i) => ({ before: prev.hists[i], after })));
    const empty = interval.count === 0;
    const sample: LiveSample = {
      t: (nowMs - this.#startMs) / 1000,
      iops: (ops - prev.ops) / dt,
      bytesPerSecond: (bytes - prev.bytes) / dt,
      p50Ns: empty ? undefined : interval.percentile(50),
      p99Ns: empty ? undefined : interval.percentile(99),
    };
    this.#lastSample = { ms: nowMs, ops, bytes, hists };
    const samples = [...this.#view.samples, sample].slice(-MAX_SAMPLES);
    this.#view = { ...this.#view, samples };
  }

  #set(patch: Partial<WorkloadView>): void {
    this.#view = { ...this.#view, ...patch };
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}
