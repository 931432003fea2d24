/**
 * BaseJob: the one implementation of the Job contract's life cycle, progress, throttle,
 * pause/resume/cancel and ready/complete (job.ts). Each job subclass writes only `execute()`,
 * calling `piece(bytes)` after each piece of work (which accounts, throttles, and stops there
 * if paused or cancelled) and `waitForComplete()` when it has converged.
 *
 * Throttle: bytes since the limit was last set (or the job resumed) must not exceed
 * limit * time since then; after a piece that runs ahead, the job sleeps on the clock until it
 * is back on schedule; that sleep ends early on cancel, pause or a new limit. Rate: bytes done /
 * running time (paused time excluded).
 *
 * Errors: whatever `execute()` throws fails the job (wrapped as IO unless it is a DiskError);
 * a cancel surfaces as DiskError('ABORTED'). Listeners that throw are ignored: a progress bar
 * must never fail a job.
 */
import { asDiskError, DiskError, isDiskError } from '../disk/errors.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import { TERMINAL_STATES, type Job, type JobKind, type JobOptions, type JobProgress, type JobState } from './job.ts';

export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

export abstract class BaseJob<R = void> implements Job<R> {
  abstract readonly kind: JobKind;
  protected readonly clock: Clock;
  protected readonly chunkBytes: number;
  #state: JobState = 'pending';
  #error: DiskError | undefined;
  #done = 0;
  #total = 0;
  #limit: number | undefined;
  #budgetStart = 0;
  #budgetBytes = 0;
  #runningNs = 0;
  #runningSince: number | undefined;
  #cancelled = false;
  #pauseRequested = false;
  #resumeWaiters: Array<() => void> = [];
  #completeRequested = false;
  #completeWaiters: Array<() => void> = [];
  #kicks: Array<() => void> = [];
  #listeners = new Set<(p: JobProgress) => void>();
  #outcome: Promise<R> | undefined;

  constructor(options: JobOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < 512) {
      throw new DiskError('INVALID_INPUT', `job: chunk size ${this.chunkBytes} is not an integer >= 512`);
    }
    this.#setLimit(options.speedLimit);
  }

  /** The work: moves data, calling `piece` after each piece. Its result is the job's. */
  protected abstract execute(): Promise<R>;

  get state(): JobState {
    return this.#state;
  }

  get error(): DiskError | undefined {
    return this.#error;
  }

  start(): Promise<R> {
    this.#outcome ??= this.#run();
    return this.#outcome;
  }

  progress(): JobProgress {
    const seconds = this.#runningTimeNs() / 1e9;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const left = Math.max(0, this.#total - this.#done);
    return { state: this.#state, bytesDone: this.#done, bytesTotal: this.#total, rate, etaSeconds: rate > 0 ? left / rate : undefined };
  }

  onProgress(listener: (progress: JobProgress) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  pause(): void {
    if (TERMINAL_STATES.includes(this.#state)) return;
    this.#pauseRequested = true;
    this.#kick();
  }

  resume(): void {
    this.#pauseRequested = false;
    for (const wake of this.#resumeWaiters.splice(0)) wake();
  }

  cancel(): void {
    if (TERMINAL_STATES.includes(this.#state)) return;
    this.#cancelled = true;
    this.#kick();
    this.resume();
    for (const wake of this.#completeWaiters.splice(0)) wake();
    if (this.#state === 'pending' && this.#outcome === undefined) {
      // Never started: it ends cancelled without touching anything.
      this.#error = new DiskError('ABORTED', `${this.kind} job cancelled before it started`);
      this.#finish('cancelled');
      this.#outcome = Promise.reject(this.#error);
      this.#outcome.catch(() => undefined);
    }
  }

  complete(): void {
    this.#completeRequested = true;
    for (const wake of this.#completeWaiters.splice(0)) wake();
  }

  setSpeedLimit(bytesPerSecond: number | undefined): void {
    this.#setLimit(bytesPerSecond);
    this.#kick();
  }

  protected get cancelled(): boolean {
    return this.#cancelled;
  }

  protected get completeRequested(): boolean {
    return this.#completeRequested;
  }

  protected setTotal(bytes: number): void {
    this.#total = bytes;
    this.#emit();
  }

  protected addTotal(bytes: number): void {
    this.#total += bytes;
  }

  /** Accounts `bytes` of finished work without throttling (for a final step that holds guest I/O). */
  protected account(bytes: number): void {
    this.#done += bytes;
    this.#budgetBytes += bytes;
    if (this.#done > this.#total) this.#total = this.#done;
    this.#emit();
  }

  /** Accounts `bytes` of finished work, then throttles and honours pause and cancel. */
  protected async piece(bytes: number): Promise<void> {
    this.account(bytes);
    // A throttle sleep ends early on cancel, pause or a new limit, so none of them waits it out.
    while (!this.#cancelled && !this.#pauseRequested && this.#limit !== undefined) {
      const due = this.#budgetStart + (this.#budgetBytes / this.#limit) * 1e9;
      const now = this.clock.nowNs();
      if (due <= now) break;
      await Promise.race([this.clock.sleep(due - now), new Promise<void>((resolve) => this.#kicks.push(resolve))]);
      this.#kicks = [];
    }
    await this.checkpoint();
  }

  /** Stops here while paused; throws ABORTED once cancelled. */
  protected async checkpoint(): Promise<void> {
    this.#throwIfCancelled();
    if (!this.#pauseRequested) return;
    const previous = this.#state;
    this.#stopClock();
    this.#state = 'paused';
    this.#emit();
    while (this.#pauseRequested) await new Promise<void>((resolve) => this.#resumeWaiters.push(resolve));
    this.#throwIfCancelled();
    this.#state = previous;
    this.#startClock();
    this.#resetBudget();
    this.#emit();
  }

  /** Enters `ready` and waits for `complete()` or `wake()`: returns true once complete() was called. */
  protected async waitReady(): Promise<boolean> {
    this.#throwIfCancelled();
    if (this.#state !== 'ready') {
      this.#state = 'ready';
      this.#emit();
    }
    if (!this.#completeRequested) await new Promise<void>((resolve) => this.#completeWaiters.push(resolve));
    this.#throwIfCancelled();
    return this.#completeRequested;
  }

  /** Ends a `waitReady` early (new work arrived). */
  protected wake(): void {
    for (const wake of this.#completeWaiters.splice(0)) wake();
  }

  async #run(): Promise<R> {
    this.#state = 'running';
    this.#startClock();
    this.#resetBudget();
    this.#emit();
    try {
      this.#throwIfCancelled();
      const result = await this.execute();
      this.#throwIfCancelled();
      this.#finish('completed');
      return result;
    } catch (e) {
      if (!this.#cancelled) this.#error = asDiskError(e, `${this.kind} job`);
      else this.#error = isDiskError(e, 'ABORTED') ? e : new DiskError('ABORTED', `${this.kind} job cancelled`, { cause: e });
      this.#finish(this.#cancelled ? 'cancelled' : 'failed');
      throw this.#error;
    }
  }

  #finish(state: JobState): void {
    this.#stopClock();
    this.#state = state;
    this.#emit();
    this.#listeners.clear();
  }

  #throwIfCancelled(): void {
    if (this.#cancelled) throw new DiskError('ABORTED', `${this.kind} job cancelled`);
  }

  #setLimit(limit: number | undefined): void {
    if (limit !== undefined && !(Number.isFinite(limit) && limit > 0)) {
      throw new DiskError('INVALID_INPUT', `job: speed limit ${limit} is not a positive number of bytes per second`);
    }
    this.#limit = limit;
    this.#resetBudget();
  }

  #kick(): void {
    for (const wake of this.#kicks.splice(0)) wake();
  }

  #resetBudget(): void {
    this.#budgetStart = this.clock.nowNs();
    this.#budgetBytes = 0;
  }

  #startClock(): void {
    this.#runningSince ??= this.clock.nowNs();
  }

  #stopClock(): void {
    if (this.#runningSince === undefined) return;
    this.#runningNs += this.clock.nowNs() - this.#runningSince;
    this.#runningSince = undefined;
  }

  #runningTimeNs(): number {
    return this.#runningNs + (this.#runningSince === undefined ? 0 : this.clock.nowNs() - this.#runningSince);
  }

  #emit(): void {
    if (this.#listeners.size === 0) return;
    const p = this.progress();
    for (const listener of this.#listeners) {
      try {
        listener(p);
      } catch {
        // A failing progress listener must not fail the job.
      }
    }
  }
}
