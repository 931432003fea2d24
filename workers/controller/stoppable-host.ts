/**
 * StoppableHost: a ControllerHost that honours a stop word (guest-stop.ts).
 *
 * The workload engine (src/core/workload) has no stop request of its own; what it has is a clean
 * ending when the controller leaves READY: it stops issuing, collects what is in flight and
 * returns its result with `aborted` set ('controller shut down', the engine's words). So this
 * host reports SHUTTING_DOWN to the engine once a stop is requested. The real controller is
 * untouched and stays usable for the next job.
 *
 * The report is made exactly once per step and only to the engine's own state check: the stop
 * word is sampled when a step begins (the engine's first call is `interruptCount`) and the next
 * `state` read, the engine's check right after reaping, consumes it. Later reads in the step (by
 * HostQueue.trySubmit) see the real state, so a stop arriving mid-step can never make a submit
 * throw; the engine's abort is sticky, so one report ends the job. A stop during a verify phase
 * lets the verify reads already planned finish (the engine issues them regardless).
 *
 * Errors: as ControllerHost.
 */
import { ControllerHost } from '../../src/core/controller/host.ts';
import { ControllerState, type ControllerBuffers } from '../../src/core/controller/layout.ts';
import { stopRequested } from '../guest-stop.ts';

export class StoppableHost extends ControllerHost {
  readonly #stop: SharedArrayBuffer;
  #report = false;

  constructor(buffers: Pick<ControllerBuffers, 'control' | 'guestMemory'>, stop: SharedArrayBuffer) {
    super(buffers);
    this.#stop = stop;
  }

  override interruptCount(vector: number): number {
    this.#report = stopRequested(this.#stop);
    return super.interruptCount(vector);
  }

  override get state(): number {
    const state = super.state;
    if (!this.#report || state !== ControllerState.READY) return state;
    this.#report = false;
    return ControllerState.SHUTTING_DOWN;
  }
}
