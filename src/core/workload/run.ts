/**
 * Drivers for WorkloadEngine: the two ways a guest can wait.
 * - `runWorkloadBlocking`: for a guest worker. Blocks the thread with Atomics.wait on the job's
 *   interrupt vector between steps (with a timeout when a rate limit or the runtime needs a timer).
 * - `runWorkloadPolling`: never blocks. Awaits Atomics.waitAsync on the vector, or the Clock's
 *   sleep when only a timer is pending. Used when the device runs on the same thread (tests) and
 *   by event-driven guests.
 * Both release the job's guest-memory buffers when the job ends.
 *
 * Errors: an impossible job throws DiskConfigError before any I/O. I/O failures are in the result.
 */
import type { ControllerHost } from '../controller/host.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import { WorkloadEngine, type EngineOptions } from './engine.ts';
import type { JobSpec } from './job.ts';
import type { WorkloadResult } from './results.ts';

export interface RunOptions extends Partial<EngineOptions> {
  readonly clock?: Clock;
}

/** Longest single wait: the driver re-checks the controller state at least this often. */
const MAX_WAIT_MS = 1000;

export function runWorkloadBlocking(host: ControllerHost, spec: JobSpec, options: RunOptions = {}): WorkloadResult {
  const clock = options.clock ?? systemClock;
  const engine = new WorkloadEngine(host, spec, { ...options, clock });
  try {
    for (;;) {
      const r = engine.step();
      if (r.done) break;
      host.waitInterrupt(engine.vector, r.seen, waitMs(r.wakeAtNs, clock));
    }
  } finally {
    engine.release();
  }
  return engine.result();
}

export async function runWorkloadPolling(host: ControllerHost, spec: JobSpec, options: RunOptions = {}): Promise<WorkloadResult> {
  const clock = options.clock ?? systemClock;
  const engine = new WorkloadEngine(host, spec, { ...options, clock });
  try {
    for (;;) {
      const r = engine.step();
      if (r.done) break;
      if (r.outstanding === 0 && r.wakeAtNs !== undefined) {
        await clock.sleep(r.wakeAtNs - clock.nowNs());
      } else if ((await host.waitInterruptAsync(engine.vector, r.seen, waitMs(r.wakeAtNs, clock))) === 'timed-out') {
        // A wait that timed out at once settled as a microtask; without a macrotask turn a device
        // on this thread (woken by Atomics.waitAsync, a task) would never run.
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
    }
  } finally {
    engine.release();
  }
  return engine.result();
}

function waitMs(wakeAtNs: number | undefined, clock: Clock): number {
  if (wakeAtNs === undefined) return MAX_WAIT_MS;
  return Math.min(MAX_WAIT_MS, Math.max(0, (wakeAtNs - clock.nowNs()) / 1e6));
}
