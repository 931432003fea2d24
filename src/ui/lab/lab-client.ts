/**
 * The page's handle on the lab's workers: starts the disk worker (and, on demand, the guest
 * worker), wraps them with Comlink over the type-only contract in workers/api.ts, and registers the
 * Comlink error handlers so a failed call rejects with a DiskError that keeps its code.
 *
 * No DOM and no React here: components reach it through hooks (lab-context.tsx). The page holds
 * specs, ids and snapshots only; every Disk lives in the disk worker.
 *
 * One client per page (`getLabClient`): React's StrictMode mounts effects twice in development, and
 * a second disk worker would split the stacks in two.
 */
import * as Comlink from 'comlink';
import type { DiskWorkerApi, GuestWorkerApi } from '../../../workers/api.ts';
import { registerErrorHandlers } from '../../../workers/comlink-errors.ts';

export interface LabClient {
  readonly disk: Comlink.Remote<DiskWorkerApi>;
  /** The guest worker, started on first use (only needed when shared memory is available). */
  guest(): Comlink.Remote<GuestWorkerApi>;
  /** True when SharedArrayBuffer may be used: controller and stats run in shared memory. */
  readonly sharedMemory: boolean;
}

let client: LabClient | undefined;

export function getLabClient(): LabClient {
  client ??= createLabClient();
  return client;
}

function createLabClient(): LabClient {
  registerErrorHandlers();
  const diskWorker = new Worker(new URL('../../../workers/disk.worker.ts', import.meta.url), { type: 'module', name: 'disk' });
  const disk = Comlink.wrap<DiskWorkerApi>(diskWorker);
  let guest: Comlink.Remote<GuestWorkerApi> | undefined;
  return {
    disk,
    guest() {
      if (guest === undefined) {
        const worker = new Worker(new URL('../../../workers/guest.worker.ts', import.meta.url), { type: 'module', name: 'guest' });
        guest = Comlink.wrap<GuestWorkerApi>(worker);
      }
      return guest;
    },
    sharedMemory: globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function',
  };
}

/** Wraps a progress callback so it can cross to the worker (the only functions that cross). */
export function progressCallback<T>(fn: (value: T) => void): (value: T) => void {
  return Comlink.proxy(fn);
}

/** Marks `buffers` inside `value` to be transferred, not copied, to the worker: the page keeps no copy (key files). */
export function transferring<T>(value: T, buffers: readonly ArrayBuffer[]): T {
  return Comlink.transfer(value, [...buffers]);
}
