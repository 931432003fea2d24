/**
 * The guest worker: the emulated machine's driver, running fio-like jobs against a controller
 * that a disk worker serves (`GuestWorkerApi`, workers/api.ts).
 *
 * `attach(buffers, stop?)` keeps the controller's shared buffers (and the page's stop word, from
 * guest-stop.ts) and creates the one host that drives them for every job: the device keeps its
 * ring positions across jobs, and so does this host, as a real driver keeps its queues (a host
 * created later would resume from the doorbells, see host.ts). `run(job)` waits for the
 * controller to be READY and runs the job with `runWorkloadBlocking`, which blocks this worker in
 * Atomics.wait between completions (allowed in a worker, and the cheapest way to wait). While it runs, this worker reads no messages: the page
 * stops a job with `requestStop(stop)`, which the StoppableHost sees within one completion or a
 * second. Live progress is in the stats buffer, read by the page; the result comes at the end.
 *
 * Errors: `attach` throws DiskConfigError for buffers that are not an initialised controller.
 * INVALID_INPUT for `run` before `attach` or while a job runs; ABORTED when the
 * controller never becomes ready (10 s) or is shut down; DiskConfigError for an impossible job.
 * Failed I/Os are counted in the result, not thrown.
 */
import { expose } from 'comlink';
import { DiskError } from '../src/core/disk/errors.ts';
import type { ControllerBuffers } from '../src/core/controller/layout.ts';
import { runWorkloadBlocking } from '../src/core/workload/run.ts';
import type { GuestWorkerApi } from './api.ts';
import { registerErrorHandlers } from './comlink-errors.ts';
import { StoppableHost } from './controller/stoppable-host.ts';
import { clearStop, createStopBuffer } from './guest-stop.ts';

registerErrorHandlers();

/** The attached controller and the one host (driver state) that serves it for the attachment's life. */
let attached: { readonly buffers: ControllerBuffers; readonly stop: SharedArrayBuffer; readonly host: StoppableHost } | undefined;
let running = false;

const api = {
  async attach(buffers, stop) {
    if (running) throw new DiskError('INVALID_INPUT', 'the guest is running a job: stop it before attaching another controller');
    const stopWord = stop ?? createStopBuffer();
    attached = { buffers, stop: stopWord, host: new StoppableHost(buffers, stopWord) };
  },

  async run(job) {
    if (!attached) throw new DiskError('INVALID_INPUT', 'the guest has no controller: attach one first');
    if (running) throw new DiskError('INVALID_INPUT', 'the guest is already running a job');
    running = true;
    try {
      clearStop(attached.stop);
      attached.host.waitReady();
      return runWorkloadBlocking(attached.host, job);
    } finally {
      running = false;
    }
  },
} satisfies GuestWorkerApi;

expose(api);
