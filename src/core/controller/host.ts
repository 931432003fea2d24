/**
 * The guest's (host driver's) side of the emulated controller: submits commands to I/O queue
 * pairs and reaps their completions, over the shared buffers described in layout.ts.
 *
 * Promises
 * - `trySubmit` never blocks: it writes the SQE, rings the SQ tail doorbell (Atomics.store +
 *   Atomics.notify, unless the caller batches with `ring: false` and calls `ringDoorbell` once),
 *   and returns the command id, or -1 when the queue already has `depth` commands outstanding.
 *   Outstanding means submitted and not yet reaped, so neither ring can overflow (the rule Linux's
 *   nvme driver follows too).
 * - `reap` never blocks: it consumes every new CQE (found by its phase tag), frees its command id
 *   and rings the CQ head doorbell.
 * - `submit` and `waitCompletions` block the thread with Atomics.wait on the queue's interrupt
 *   vector, for a guest worker. Completions `submit` reaps while waiting for room are kept and
 *   returned by the next `reap`/`waitCompletions`, never lost.
 * - `waitInterruptAsync` waits without blocking (Atomics.waitAsync), for a guest sharing its
 *   thread with the device (tests) or an event-driven guest.
 * - A host may be created over a controller another host drove before (a guest worker that
 *   builds one per job, a guest re-attached to the same buffers): each queue resumes where the
 *   rings are, its SQ tail and CQ head read from the doorbells and its expected phase from the CQ
 *   (the device keeps its ring positions for its whole life; a host assuming fresh rings would
 *   write SQEs the device never fetches and watch CQ slots it never writes). The earlier host must
 *   have reaped everything it submitted: command ids in flight are not in shared memory.
 * Each queue must be driven by one thread only.
 *
 * Errors: submitting to a controller that is shutting down, shut down or failed throws
 * DiskError('ABORTED'); a command the encoding cannot carry (blocks outside 1..65536, a negative
 * or fractional LBA or offset) throws DiskError('INVALID_INPUT'). Failed commands are not errors
 * here: they are completions with a non-zero status. Creating a host over a control buffer whose
 * doorbells lie outside their rings throws DiskConfigError (field 'control').
 */
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { GuestMemory } from './guest-memory.ts';
import {
  ControllerState,
  DB_CQ_HEAD,
  DB_SQ_TAIL,
  H_MAX_TRANSFER,
  H_NS_FLAGS,
  H_SECTORS_HI,
  H_SECTORS_LO,
  H_SECTOR_SIZE,
  H_STATE,
  MAX_BLOCKS_PER_COMMAND,
  NS_FUA_RESPECTED,
  NS_READ_ONLY,
  Opcode,
  cqePhase,
  decodeCqe,
  encodeSqe,
  layoutOf,
  type Command,
  type ControllerBuffers,
  type ControllerLayout,
} from './layout.ts';

export interface Completion {
  readonly queue: number;
  readonly cid: number;
  /** The 15-bit NVMe status field; 0 is success (see completion-status.ts `describeStatus`). */
  readonly status: number;
  readonly sct: number;
  readonly sc: number;
  readonly dnr: boolean;
}

export interface NamespaceInfo {
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  readonly fuaRespected: boolean;
  readonly maxTransferBlocks: number;
}

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

export class ControllerHost {
  readonly layout: ControllerLayout;
  readonly control: Int32Array;
  readonly memory: GuestMemory;
  readonly #queues: HostQueue[];

  constructor(buffers: Pick<ControllerBuffers, 'control' | 'guestMemory'>) {
    this.control = new Int32Array(buffers.control);
    this.layout = layoutOf(this.control);
    this.memory = new GuestMemory(buffers.guestMemory);
    this.#queues = Array.from({ length: this.layout.queues }, (_, q) => new HostQueue(this, q));
  }

  get state(): number {
    return Atomics.load(this.control, H_STATE);
  }

  /** The namespace as the device published it, or undefined before the device started. */
  namespace(): NamespaceInfo | undefined {
    const c = this.control;
    if (this.state !== ControllerState.READY) return undefined;
    const flags = c[H_NS_FLAGS]!;
    return {
      sectorSize: c[H_SECTOR_SIZE]!,
      sectorCount: (c[H_SECTORS_HI]! >>> 0) * 2 ** 32 + (c[H_SECTORS_LO]! >>> 0),
      readOnly: (flags & NS_READ_ONLY) !== 0,
      fuaRespected: (flags & NS_FUA_RESPECTED) !== 0,
      maxTransferBlocks: c[H_MAX_TRANSFER]!,
    };
  }

  /** Blocks (Atomics.wait) until the device is ready; throws ABORTED on timeout or shutdown. */
  waitReady(timeoutMs = 10_000): NamespaceInfo {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const state = this.state;
      if (state === ControllerState.READY) return this.namespace()!;
      if (state !== ControllerState.RESET) throw notRunning(state);
      const left = deadline - performance.now();
      if (left <= 0) throw new DiskError('ABORTED', `controller not ready after ${timeoutMs} ms`);
      Atomics.wait(this.control, H_STATE, state, left);
    }
  }

  queue(index: number): HostQueue {
    const q = this.#queues[index];
    if (q === undefined) throw new DiskError('INVALID_INPUT', `queue ${index} does not exist (controller has ${this.#queues.length})`);
    return q;
  }

  /** Current count of interrupt `vector`: read it before reaping, then wait on it. */
  interruptCount(vector: number): number {
    return Atomics.load(this.control, this.layout.vectorWord(vector));
  }

  /** Blocks until the vector moves past `seen` (or the controller stops), up to `timeoutMs`. */
  waitInterrupt(vector: number, seen: number, timeoutMs = Infinity): WaitResult {
    return Atomics.wait(this.control, this.layout.vectorWord(vector), seen, timeoutMs);
  }

  /** Like waitInterrupt without blocking the thread. */
  async waitInterruptAsync(vector: number, seen: number, timeoutMs = Infinity): Promise<WaitResult> {
    const r = Atomics.waitAsync(this.control, this.layout.vectorWord(vector), seen, timeoutMs);
    return r.value;
  }
}

export class HostQueue {
  readonly index: number;
  readonly depth: number;
  readonly vector: number;
  readonly #host: ControllerHost;
  readonly #c: Int32Array;
  readonly #entries: number;
  readonly #sqTailWord: number;
  readonly #cqHeadWord: number;
  readonly #vectorWord: number;
  readonly #freeCids: number[];
  readonly #busy: Uint8Array;
  readonly #held: Completion[] = [];
  #sqTail = 0;
  #cqHead = 0;
  #phase = 1;
  #outstanding = 0;

  constructor(host: ControllerHost, index: number) {
    const layout = host.layout;
    this.#host = host;
    this.#c = host.control;
    this.index = index;
    this.depth = layout.depth;
    this.vector = layout.vectorOf(index);
    this.#entries = layout.entries;
    this.#sqTailWord = layout.doorbellWord(index, DB_SQ_TAIL);
    this.#cqHeadWord = layout.doorbellWord(index, DB_CQ_HEAD);
    this.#vectorWord = layout.vectorWord(this.vector);
    this.#freeCids = Array.from({ length: layout.depth }, (_, i) => layout.depth - 1 - i);
    this.#busy = new Uint8Array(layout.depth);
    this.#resume(layout);
  }

  /**
   * Takes up the rings where the last host left them (see the module doc). The doorbells hold the
   * SQ tail and CQ head; the expected phase is the tag of the last entry reaped (the slot before
   * the head), flipped if the head has just wrapped. A CQ never written reads as phase 0 in its
   * last slot, which gives phase 1 at head 0: the fresh-ring case needs no special path.
   */
  #resume(layout: ControllerLayout): void {
    const tail = Atomics.load(this.#c, this.#sqTailWord);
    const head = Atomics.load(this.#c, this.#cqHeadWord);
    if (!(tail >= 0 && tail < this.#entries && head >= 0 && head < this.#entries)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'control', `queue ${this.index}: doorbells (SQ tail ${tail}, CQ head ${head}) are outside a ring of ${this.#entries} slots`);
    }
    const last = head === 0 ? this.#entries - 1 : head - 1;
    const lastPhase = cqePhase(this.#c, layout.cqeWord(this.index, last));
    this.#sqTail = tail;
    this.#cqHead = head;
    this.#phase = head === 0 ? lastPhase ^ 1 : lastPhase;
  }

  /** Commands submitted and not yet reaped. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Submits without blocking; returns the command id, or -1 if `depth` commands are outstanding. */
  trySubmit(command: Command, ring = true): number {
    const state = this.#host.state;
    if (state !== ControllerState.READY) throw notRunning(state);
    checkCommand(command);
    const cid = this.#freeCids.pop();
    if (cid === undefined) return -1;
    this.#busy[cid] = 1;
    this.#outstanding++;
    encodeSqe(this.#c, this.#host.layout.sqeWord(this.index, this.#sqTail), cid, command);
    this.#sqTail = this.#sqTail + 1 === this.#entries ? 0 : this.#sqTail + 1;
    if (ring) this.ringDoorbell();
    return cid;
  }

  /** Publishes every SQE written so far to the device. */
  ringDoorbell(): void {
    if (Atomics.load(this.#c, this.#sqTailWord) === this.#sqTail) return;
    Atomics.store(this.#c, this.#sqTailWord, this.#sqTail);
    Atomics.notify(this.#c, this.#sqTailWord, 1);
  }

  /** Submits, blocking (Atomics.wait) while the queue is full; see the module doc. */
  submit(command: Command, timeoutMs = Infinity): number {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.#c, this.#vectorWord);
      const cid = this.trySubmit(command);
      if (cid >= 0) return cid;
      if (this.#reapInto(this.#held) > 0) continue;
      const left = deadline - performance.now();
      if (left <= 0) throw new DiskError('ABORTED', `queue ${this.index} stayed full for ${timeoutMs} ms`);
      Atomics.wait(this.#c, this.#vectorWord, seen, Math.min(left, 1000));
    }
  }

  /** Every completion available now (possibly none); never blocks. */
  reap(): Completion[] {
    const out = this.#held.splice(0);
    this.#reapInto(out);
    return out;
  }

  /** Blocks until at least one completion arrives or `timeoutMs` passes (then returns []). */
  waitCompletions(timeoutMs = Infinity): Completion[] {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.#c, this.#vectorWord);
      const out = this.reap();
      if (out.length > 0) return out;
      const state = this.#host.state;
      if (state !== ControllerState.READY && state !== ControllerState.SHUTTING_DOWN) return out;
      const left = deadline - performance.now();
      if (left <= 0) return out;
      Atomics.wait(this.#c, this.#vectorWord, seen, Math.min(left, 1000));
    }
  }

  #reapInto(out: Completion[]): number {
    const layout = this.#host.layout;
    let n = 0;
    for (;;) {
      const at = layout.cqeWord(this.index, this.#cqHead);
      if (cqePhase(this.#c, at) !== this.#phase) break;
      const e = decodeCqe(this.#c, at);
      if (this.#busy[e.cid] === 1) {
        this.#busy[e.cid] = 0;
        this.#freeCids.push(e.cid);
        this.#outstanding--;
      }
      out.push({ queue: this.index, cid: e.cid, status: e.status, sct: e.sct, sc: e.sc, dnr: e.dnr });
      n++;
      this.#cqHead++;
      if (this.#cqHead === this.#entries) {
        this.#cqHead = 0;
        this.#phase ^= 1;
      }
    }
    if (n > 0) {
      Atomics.store(this.#c, this.#cqHeadWord, this.#cqHead);
      // The device waits on this word only when a CQ is full; waking it is then essential.
      Atomics.notify(this.#c, this.#cqHeadWord, 1);
    }
    return n;
  }
}

function checkCommand(c: Command): void {
  const bad = (what: string): never => {
    throw new DiskError('INVALID_INPUT', `command cannot be encoded: ${what}`);
  };
  if (!Number.isSafeInteger(c.lba) || c.lba < 0) bad(`LBA ${c.lba}`);
  if (c.opcode !== Opcode.FLUSH && (!Number.isInteger(c.blocks) || c.blocks < 1 || c.blocks > MAX_BLOCKS_PER_COMMAND)) bad(`${c.blocks} blocks`);
  const offset = c.dataOffset ?? 0;
  const length = c.dataLength ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset >= 2 ** 32) bad(`data offset ${offset}`);
  if (!Number.isInteger(length) || length < 0 || length >= 2 ** 32) bad(`data length ${length}`);
}

function notRunning(state: number): DiskError {
  const what = state === ControllerState.RESET ? 'not started' : state === ControllerState.FATAL ? 'failed' : 'shut down';
  return new DiskError('ABORTED', `controller is ${what}`);
}
