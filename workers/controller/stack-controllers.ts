/**
 * The emulated controllers of one stack in the disk worker: at most one attached controller
 * (shared buffers handed to a guest worker) and the inline fallback (device and guest both in
 * this worker, for pages that are not cross-origin isolated).
 *
 * Promises
 * - A device serves the stack's SwitchableDisk, so overlays added or removed while it runs take
 *   effect between commands. Its namespace (size, read-only flag) is published when it starts.
 * - `attach` refuses a second controller (detach first); `detach` stops the device (commands in
 *   flight finish, the guest sees SHUT_DOWN) and forgets it.
 * - `runInline` allocates private buffers (a SharedArrayBuffer that never leaves the worker, see
 *   platform/shared-memory.ts), starts a device, runs the job with the polling driver and a
 *   StoppableHost, stops the device and resolves with the result. One inline job at a time;
 *   `stopInline` ends it early (the result then has `aborted` set). Its stats stay readable
 *   through `stats()` after it ends, until the next run.
 * - `stats()` reads the inline controller's stats if one has run, else the attached one's.
 *
 * Errors: INVALID_INPUT for a second attach or a second inline job; DiskConfigError for
 * impossible queue/depth/memory sizes or an impossible job.
 */
import type { Disk } from '../../src/core/disk/disk.ts';
import { DiskError } from '../../src/core/disk/errors.ts';
import { allocateControllerBuffers } from '../../src/core/controller/buffers.ts';
import { ControllerDevice } from '../../src/core/controller/device.ts';
import type { ControllerBuffers } from '../../src/core/controller/layout.ts';
import { readControllerStats, type ControllerStatsSnapshot } from '../../src/core/controller/stats.ts';
import { runWorkloadPolling } from '../../src/core/workload/run.ts';
import type { JobSpec } from '../../src/core/workload/job.ts';
import type { WorkloadResult } from '../../src/core/workload/results.ts';
import type { ControllerOptions } from '../api.ts';
import { clearStop, createStopBuffer, requestStop } from '../guest-stop.ts';
import { ensureSharedArrayBuffer } from '../platform/shared-memory.ts';
import { StoppableHost } from './stoppable-host.ts';

interface Running {
  readonly buffers: ControllerBuffers;
  readonly device: ControllerDevice;
}

export class StackControllers {
  readonly #disk: Disk;
  readonly #name: string;
  #attached: Running | undefined;
  #inline: (Running & { readonly stop: SharedArrayBuffer; running: boolean }) | undefined;

  constructor(disk: Disk, name: string) {
    this.#disk = disk;
    this.#name = name;
  }

  get attached(): ControllerBuffers | undefined {
    return this.#attached?.buffers;
  }

  attach(options: ControllerOptions): ControllerBuffers {
    if (this.#attached) throw new DiskError('INVALID_INPUT', `stack '${this.#name}' already has a controller attached: detach it first`);
    const buffers = allocateControllerBuffers({ queues: options.queues, depth: options.depth, guestMemoryBytes: options.guestMemoryBytes });
    const device = new ControllerDevice(this.#disk, buffers);
    device.start();
    this.#attached = { buffers, device };
    return buffers;
  }

  async detach(): Promise<void> {
    const attached = this.#attached;
    this.#attached = undefined;
    await attached?.device.stop();
  }

  async runInline(options: ControllerOptions, job: JobSpec): Promise<WorkloadResult> {
    if (this.#inline?.running) throw new DiskError('INVALID_INPUT', `stack '${this.#name}' is already running an inline workload`);
    ensureSharedArrayBuffer();
    const buffers = allocateControllerBuffers({ queues: options.queues, depth: options.depth, guestMemoryBytes: options.guestMemoryBytes });
    const device = new ControllerDevice(this.#disk, buffers);
    const stop = this.#inline?.stop ?? createStopBuffer();
    clearStop(stop);
    const inline = { buffers, device, stop, running: true };
    this.#inline = inline;
    device.start();
    try {
      return await runWorkloadPolling(new StoppableHost(buffers, stop), job);
    } finally {
      inline.running = false;
      await device.stop();
    }
  }

  stopInline(): void {
    if (this.#inline?.running) requestStop(this.#inline.stop);
  }

  stats(): ControllerStatsSnapshot | undefined {
    const from = this.#inline ?? this.#attached;
    return from && readControllerStats(from.buffers.stats);
  }

  async close(): Promise<void> {
    this.stopInline();
    await this.detach();
    await this.#inline?.device.stop();
  }
}
