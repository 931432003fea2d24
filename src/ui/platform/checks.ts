/**
 * The page's platform checks: can this browser host the lab's data plane and its disk worker?
 *
 * - Cross-origin isolation: the controller's rings, guest memory and live stats are
 *   SharedArrayBuffers, which browsers only hand out when the page is cross-origin isolated
 *   (the dev and preview servers send COOP `same-origin` and COEP `require-corp` for this).
 * - OPFS sync access handle: the disk worker keeps images in the origin private file system
 *   through `FileSystemSyncAccessHandle`, which only a dedicated worker can open.
 * - Atomics.waitAsync: the disk worker must wait on the controller's doorbells without blocking.
 *
 * Each check resolves to a `CheckResult`; none throws. The OPFS probe runs in a real worker and
 * gives up after a timeout so a hung worker shows as a failure, not as a spinner forever.
 */
import type { OpfsProbeResult } from '../../../workers/opfs-probe-protocol.ts';

export type CheckStatus = 'pending' | 'pass' | 'fail';

export interface CheckResult {
  readonly status: CheckStatus;
  /** One sentence a person can act on: what was observed, and on failure why it matters. */
  readonly detail: string;
}

export const PENDING: CheckResult = { status: 'pending', detail: 'Checking…' };

export function checkCrossOriginIsolation(): CheckResult {
  const isolated = globalThis.crossOriginIsolated === true;
  const sharedMemory = typeof SharedArrayBuffer === 'function';
  if (isolated && sharedMemory) {
    return { status: 'pass', detail: 'crossOriginIsolated is true and SharedArrayBuffer is available.' };
  }
  return {
    status: 'fail',
    detail:
      `crossOriginIsolated is ${String(isolated)}; SharedArrayBuffer is ${sharedMemory ? 'defined' : 'missing'}. ` +
      'Serve the page with COOP same-origin and COEP require-corp (npm start and npm run preview do).',
  };
}

export function checkAtomicsWaitAsync(): CheckResult {
  // ES2024 API: not in the ES2023 lib the page compiles against, so look it up by name.
  if (typeof (Atomics as unknown as Record<string, unknown>)['waitAsync'] === 'function') {
    return { status: 'pass', detail: 'Atomics.waitAsync is available.' };
  }
  return { status: 'fail', detail: 'Atomics.waitAsync is missing: the disk worker could not wait on doorbells without blocking.' };
}

const OPFS_PROBE_TIMEOUT_MS = 10_000;

export interface RunningProbe {
  readonly result: Promise<CheckResult>;
  /**
   * Stops listening: `result` then never settles, so a cancelled probe cannot update the page. The
   * worker is left to finish, because terminating it mid-probe would leave its file in OPFS.
   */
  cancel(): void;
}

export function probeOpfsSyncAccessHandle(): RunningProbe {
  let cancelled = false;
  const result = new Promise<CheckResult>((resolve) => {
    const settle = (outcome: CheckResult): void => {
      if (!cancelled) resolve(outcome);
    };
    if (typeof Worker !== 'function') {
      settle({ status: 'fail', detail: 'This browser has no Web Workers.' });
      return;
    }
    let worker: Worker;
    try {
      worker = new Worker(new URL('../../../workers/opfs-probe.worker.ts', import.meta.url), { type: 'module', name: 'opfs-probe' });
    } catch (error) {
      settle({ status: 'fail', detail: `Could not start the probe worker: ${describe(error)}` });
      return;
    }
    const timer = setTimeout(() => {
      worker.terminate();
      settle({ status: 'fail', detail: `The probe worker did not answer within ${OPFS_PROBE_TIMEOUT_MS / 1000} s.` });
    }, OPFS_PROBE_TIMEOUT_MS);
    worker.onmessage = (event: MessageEvent<OpfsProbeResult>) => {
      clearTimeout(timer);
      worker.terminate();
      settle(fromProbe(event.data));
    };
    worker.onerror = (event: ErrorEvent) => {
      clearTimeout(timer);
      worker.terminate();
      settle({ status: 'fail', detail: `The probe worker failed to load or run: ${event.message || 'unknown error'}` });
    };
  });
  return {
    result,
    cancel: () => {
      cancelled = true;
    },
  };
}

function fromProbe(probe: OpfsProbeResult): CheckResult {
  if (probe.ok) {
    return {
      status: 'pass',
      detail: `A dedicated worker opened a sync access handle and wrote, read back and verified ${probe.bytesVerified} bytes in ${probe.elapsedMs.toFixed(1)} ms.`,
    };
  }
  return { status: 'fail', detail: `Step "${probe.step}" failed: ${probe.errorName}: ${probe.message}` };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
