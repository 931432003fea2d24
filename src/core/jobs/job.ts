/**
 * The Job contract: one interface for every long-running block operation (commit, stream, mirror,
 * backup, incremental backup, export, convert), modelled on QEMU's block jobs, so the worker, the
 * page's jobs panel and the CLI (`--progress=json`, `-r RATE`) drive them all the same way.
 *
 * Promises
 * - Life cycle: `pending` until `start()`, then `running`; `paused` between `pause()` and
 *   `resume()`; `ready` for jobs that converge and then wait to be told to finish (mirror, and
 *   commit or backup over a live disk do not need it): `complete()` finishes them. A job ends
 *   `completed`, `cancelled` or `failed`. `start()` returns the job's outcome; calling it twice
 *   returns the same promise.
 * - Progress: `progress()` (and every `onProgress` call, after each piece of work and on each
 *   state change) gives bytes done and total, the rate in bytes/s over the job's running time
 *   (pauses excluded) and the ETA in seconds (undefined while the rate is unknown). The total may
 *   grow while a job runs (a mirror re-copies what the guest dirtied).
 * - Speed limit: `setSpeedLimit(bytesPerSecond)` (undefined: unlimited) takes effect at once;
 *   the job sleeps on the Clock port so that bytes done never run ahead of limit * running time
 *   by more than one piece (`chunkBytes`).
 * - pause/resume/cancel act at the next piece boundary: no piece is abandoned half-written.
 * - Safety: a cancelled or failed job leaves its source intact: the data a guest reads through
 *   the source disk is what it would have been without the job. Targets may be partly written.
 *
 * Errors: `start()` rejects with `DiskError('ABORTED')` after `cancel()`, and with the job's
 * DiskError when it fails (a target's `QUOTA` stays `QUOTA`); `error` keeps it. Invalid job
 * parameters (sizes that differ, a read-only target) reject `start()` with `INVALID_INPUT` or
 * `READ_ONLY` before anything is touched.
 */
import type { DiskError } from '../disk/errors.ts';
import type { Clock } from '../ports/clock.ts';

export type JobKind = 'commit' | 'stream' | 'mirror' | 'backup' | 'incremental-backup' | 'export' | 'convert';

export type JobState = 'pending' | 'running' | 'paused' | 'ready' | 'completed' | 'cancelled' | 'failed';

export interface JobProgress {
  readonly state: JobState;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second over the job's running time; 0 before any time has passed. */
  readonly rate: number;
  /** Seconds left at the current rate; undefined while the rate is 0. */
  readonly etaSeconds: number | undefined;
}

export interface JobOptions {
  /** Time source for rates and throttling; default the system clock. */
  readonly clock?: Clock;
  /** Bytes per second; undefined (default) for no limit. */
  readonly speedLimit?: number;
  /** Bytes moved per piece (and the most a job may run ahead of its limit); default 1 MiB. */
  readonly chunkBytes?: number;
}

export interface Job<R = void> {
  readonly kind: JobKind;
  readonly state: JobState;
  /** Why the job failed or was cancelled. */
  readonly error: DiskError | undefined;
  start(): Promise<R>;
  progress(): JobProgress;
  /** Calls `listener` after each piece and each state change; returns an unsubscribe function. */
  onProgress(listener: (progress: JobProgress) => void): () => void;
  pause(): void;
  resume(): void;
  cancel(): void;
  setSpeedLimit(bytesPerSecond: number | undefined): void;
  /** For a `ready` job: finish (switch over). Harmless in other states. */
  complete(): void;
}

export const TERMINAL_STATES: readonly JobState[] = ['completed', 'cancelled', 'failed'];
