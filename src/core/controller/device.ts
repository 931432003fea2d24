/**
 * ControllerDevice: the disk side of the emulated NVMe-shaped controller. It serves the I/O queue
 * pairs in the control buffer (layout.ts) against one Disk (wrapped in `openDisk`, so read-only
 * and range rules hold), posts completions and keeps live stats (stats.ts).
 *
 * Promises
 * - It never blocks its thread: each queue has an async loop that waits for its SQ tail doorbell
 *   with Atomics.waitAsync, so the disk worker stays free to await network and OPFS.
 * - Commands on a queue run concurrently, up to the queue's depth; completions are posted in the
 *   order commands finish (as NVMe allows), each with the SQ head at the time of posting.
 * - Data moves between guest memory and the disk with as few copies as the guarantees allow:
 *   a WRITE hands the disk a view of guest memory (no copy; the disk contract forbids writing into
 *   it, and the guest must not touch the buffer until completion, as with DMA). A READ lands in a
 *   pooled device-side bounce buffer and is copied into guest memory only after the disk read
 *   succeeded, so a failed read never leaves partial data where the guest will look and backends
 *   never see a SharedArrayBuffer view (some platform APIs reject them). `directReads: true`
 *   reads straight into guest memory instead (no copy; after a failure the buffer's contents are
 *   undefined, which NVMe also permits).
 * - Interrupts are coalesced: completions posted in one burst of promise resolutions bump their
 *   vector once (Atomics.add + Atomics.notify).
 * - Stats are updated before a CQE is posted, so a guest that has reaped everything reads stats
 *   that include everything.
 * - `stop()` stops fetching, lets commands in flight finish and post, completes commands still in
 *   the SQs with "Command Aborted due to SQ Deletion", sets the state SHUT_DOWN and wakes every
 *   waiter. It never closes the disk: the owner does that.
 * - A doorbell value outside its ring is a host protocol violation: the controller goes FATAL
 *   (NVMe's Controller Fatal Status) and stops fetching; `fatalReason` says why.
 *
 * Errors: a failed command is a completion status, never an exception: a DiskError maps through
 * status.ts, anything else is Internal Error (completion-status.ts). Malformed commands (bad
 * namespace, data length not NLB sectors, data outside guest memory, more than
 * `maxTransferBlocks`) complete as Invalid Field; an unknown opcode as Invalid Command Opcode; an
 * LBA past 2^53 as LBA Out of Range.
 */
import { openDisk } from '../disk/open-disk.ts';
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import { STATUS_ABORTED_SQ_DELETION, statusOfError } from './completion-status.ts';
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
  NAMESPACE_ID,
  NS_FUA_RESPECTED,
  NS_READ_ONLY,
  Opcode,
  decodeSqe,
  layoutOf,
  writeCqe,
  type ControllerBuffers,
  type ControllerLayout,
  type DecodedCommand,
} from './layout.ts';
import { ControllerStatsWriter, statsOpIndex } from './stats.ts';

export interface ControllerDeviceOptions {
  readonly clock?: Clock;
  /** Read straight into guest memory (see the module doc). Default false. */
  readonly directReads?: boolean;
  /** Largest transfer per command in blocks (NVMe's MDTS); default 65536. */
  readonly maxTransferBlocks?: number;
}

interface QueueState {
  readonly index: number;
  readonly tailWord: number;
  readonly headWord: number;
  readonly vector: number;
  sqHead: number;
  cqTail: number;
  phase: number;
  inFlight: number;
  /** Completions waiting for CQ space (only when a host ignores its outstanding limit). */
  readonly backlog: { cid: number; status: number }[];
  drainingBacklog: boolean;
  slotFreed: (() => void) | undefined;
}

export class ControllerDevice {
  readonly #disk: Disk;
  readonly #c: Int32Array;
  readonly #layout: ControllerLayout;
  readonly #guest: Uint8Array;
  readonly #stats: ControllerStatsWriter;
  readonly #clock: Clock;
  readonly #direct: boolean;
  readonly #maxBlocks: number;
  readonly #queues: QueueState[];
  readonly #pendingIrq: Uint8Array;
  readonly #pool = new Map<number, Uint8Array[]>();
  #irqScheduled = false;
  #loops: Promise<void>[] = [];
  #started = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #fatalReason: string | undefined;

  constructor(disk: Disk, buffers: ControllerBuffers, options: ControllerDeviceOptions = {}) {
    this.#disk = openDisk(disk);
    this.#c = new Int32Array(buffers.control);
    this.#layout = layoutOf(this.#c);
    this.#guest = new Uint8Array(buffers.guestMemory);
    this.#stats = new ControllerStatsWriter(buffers.stats);
    this.#clock = options.clock ?? systemClock;
    this.#direct = options.directReads ?? false;
    this.#maxBlocks = Math.min(options.maxTransferBlocks ?? MAX_BLOCKS_PER_COMMAND, MAX_BLOCKS_PER_COMMAND);
    this.#pendingIrq = new Uint8Array(this.#layout.vectors);
    this.#queues = Array.from({ length: this.#layout.queues }, (_, index) => ({
      index,
      tailWord: this.#layout.doorbellWord(index, DB_SQ_TAIL),
      headWord: this.#layout.doorbellWord(index, DB_CQ_HEAD),
      vector: this.#layout.vectorOf(index),
      sqHead: 0,
      cqTail: 0,
      phase: 1,
      inFlight: 0,
      backlog: [],
      drainingBacklog: false,
      slotFreed: undefined,
    }));
  }

  /** Commands fetched and not yet completed, over all queues. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get fatalReason(): string | undefined {
    return this.#fatalReason;
  }

  /** Publishes the namespace, marks the controller READY and starts serving every queue. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const c = this.#c;
    const d = this.#disk;
    const sectors = d.sectorCount();
    c[H_SECTOR_SIZE] = d.sectorSize;
    c[H_SECTORS_LO] = sectors % 2 ** 32;
    c[H_SECTORS_HI] = Math.floor(sectors / 2 ** 32);
    c[H_NS_FLAGS] = (d.readOnly ? NS_READ_ONLY : 0) | (d.fuaRespected ? NS_FUA_RESPECTED : 0);
    c[H_MAX_TRANSFER] = this.#maxBlocks;
    this.#setState(ControllerState.READY);
    this.#loops = this.#queues.map((q) => this.#serve(q));
  }

  /** Clean shutdown; see the module doc. Resolves when every command has completed. */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    const c = this.#c;
    const wasFatal = this.#fatalReason !== undefined;
    this.#stopping = true;
    if (!wasFatal) this.#setState(ControllerState.SHUTTING_DOWN);
    for (const q of this.#queues) {
      Atomics.notify(c, q.tailWord);
      q.slotFreed?.();
    }
    await Promise.all(this.#loops);
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    if (!wasFatal) for (const q of this.#queues) this.#abortUnfetched(q);
    this.#deliverInterrupts();
    if (!wasFatal) this.#setState(ControllerState.SHUT_DOWN);
    for (const q of this.#queues) Atomics.notify(c, q.headWord);
    this.#wakeAllVectors();
  }

  async #serve(q: QueueState): Promise<void> {
    const c = this.#c;
    const { entries, depth } = this.#layout;
    while (!this.#stopping) {
      const tail = Atomics.load(c, q.tailWord);
      if (!(tail >= 0 && tail < entries)) {
        this.#fail(`queue ${q.index}: SQ tail doorbell ${tail} is outside a ring of ${entries} slots`);
        return;
      }
      while (q.sqHead !== tail && q.inFlight < depth) this.#fetch(q);
      if (q.sqHead !== tail) {
        // Only a host exceeding its outstanding limit gets here: wait for a command to finish.
        await new Promise<void>((resolve) => (q.slotFreed = resolve));
        continue;
      }
      const w = Atomics.waitAsync(c, q.tailWord, tail);
      if (w.async) await w.value;
    }
  }

  #fetch(q: QueueState): void {
    const slot = q.sqHead;
    const cmd = decodeSqe(this.#c, this.#layout.sqeWord(q.index, slot));
    q.sqHead = slot + 1 === this.#layout.entries ? 0 : slot + 1;
    q.inFlight++;
    this.#inFlight++;
    const op = statsOpIndex(cmd.opcode);
    this.#stats.fetched(q.index, op);
    const start = this.#clock.nowNs();
    this.#execute(cmd).then(
      (bytes) => this.#finish(q, cmd, op, 0, bytes, start),
      (e: unknown) => this.#finish(q, cmd, op, statusOfError(e), 0, start),
    );
  }

  #finish(q: QueueState, cmd: DecodedCommand, op: number | undefined, status: number, bytes: number, start: number): void {
    this.#stats.completed(q.index, op, status, bytes, this.#clock.nowNs() - start, cmd);
    q.inFlight--;
    this.#inFlight--;
    this.#post(q, cmd.cid, status);
    const freed = q.slotFreed;
    if (freed !== undefined) {
      q.slotFreed = undefined;
      freed();
    }
    if (this.#inFlight === 0 && this.#idle !== undefined) this.#idle();
  }

  async #execute(cmd: DecodedCommand): Promise<number> {
    const disk = this.#disk;
    if (cmd.nsid !== NAMESPACE_ID) throw new DiskError('INVALID_INPUT', `namespace ${cmd.nsid} does not exist`);
    if (cmd.opcode === Opcode.FLUSH) {
      await disk.flush();
      return 0;
    }
    if (cmd.lba > Number.MAX_SAFE_INTEGER) throw new DiskError('OUT_OF_RANGE', `LBA ${cmd.lba} is past 2^53`, { lba: cmd.lba });
    switch (cmd.opcode) {
      case Opcode.DSM:
        await disk.unmap(cmd.lba, cmd.blocks);
        return cmd.blocks * disk.sectorSize;
      case Opcode.WRITE: {
        const data = this.#guestView(cmd);
        await disk.write(cmd.lba, data, { fua: cmd.fua });
        return data.length;
      }
      case Opcode.READ: {
        const target = this.#guestView(cmd);
        if (this.#direct) {
          await disk.read(cmd.lba, target);
          return target.length;
        }
        const bounce = this.#takeBounce(target.length);
        try {
          await disk.read(cmd.lba, bounce);
          target.set(bounce);
        } finally {
          this.#giveBounce(bounce);
        }
        return target.length;
      }
      default:
        throw new DiskError('UNSUPPORTED', `opcode 0x${cmd.opcode.toString(16)} is not supported`);
    }
  }

  #guestView(cmd: DecodedCommand): Uint8Array {
    const bytes = cmd.blocks * this.#disk.sectorSize;
    if (cmd.blocks > this.#maxBlocks) throw new DiskError('INVALID_INPUT', `${cmd.blocks} blocks exceed the ${this.#maxBlocks}-block transfer limit`);
    if (cmd.dataLength !== bytes) throw new DiskError('INVALID_INPUT', `data length ${cmd.dataLength} is not ${cmd.blocks} blocks (${bytes} bytes)`);
    if (cmd.dataOffset + bytes > this.#guest.length) {
      throw new DiskError('INVALID_INPUT', `data [${cmd.dataOffset}, +${bytes}) lies outside guest memory of ${this.#guest.length} bytes`);
    }
    return this.#guest.subarray(cmd.dataOffset, cmd.dataOffset + bytes);
  }

  #takeBounce(length: number): Uint8Array {
    return this.#pool.get(length)?.pop() ?? new Uint8Array(length);
  }

  #giveBounce(buf: Uint8Array): void {
    let list = this.#pool.get(buf.length);
    if (list === undefined) this.#pool.set(buf.length, (list = []));
    // Keep no more than could be in flight at once; a burst of odd sizes must not pin memory.
    if (list.length < this.#layout.depth * this.#layout.queues) list.push(buf);
  }

  #post(q: QueueState, cid: number, status: number): void {
    if (q.backlog.length > 0 || this.#cqFull(q)) {
      q.backlog.push({ cid, status });
      if (!q.drainingBacklog) void this.#drainBacklog(q);
      return;
    }
    this.#writeCompletion(q, cid, status);
  }

  #cqFull(q: QueueState): boolean {
    const next = q.cqTail + 1 === this.#layout.entries ? 0 : q.cqTail + 1;
    return next === Atomics.load(this.#c, q.headWord);
  }

  #writeCompletion(q: QueueState, cid: number, status: number): void {
    writeCqe(this.#c, this.#layout.cqeWord(q.index, q.cqTail), cid, status, q.phase, q.sqHead, q.index);
    q.cqTail++;
    if (q.cqTail === this.#layout.entries) {
      q.cqTail = 0;
      q.phase ^= 1;
    }
    this.#pendingIrq[q.vector] = 1;
    if (!this.#irqScheduled) {
      this.#irqScheduled = true;
      void Promise.resolve().then(() => this.#deliverInterrupts());
    }
  }

  async #drainBacklog(q: QueueState): Promise<void> {
    q.drainingBacklog = true;
    while (q.backlog.length > 0 && Atomics.load(this.#c, H_STATE) !== ControllerState.SHUT_DOWN) {
      const head = Atomics.load(this.#c, q.headWord);
      while (q.backlog.length > 0 && !this.#cqFull(q)) {
        const { cid, status } = q.backlog.shift()!;
        this.#writeCompletion(q, cid, status);
      }
      if (q.backlog.length === 0) break;
      const w = Atomics.waitAsync(this.#c, q.headWord, head);
      if (w.async) await w.value;
    }
    q.drainingBacklog = false;
  }

  #abortUnfetched(q: QueueState): void {
    const tail = Atomics.load(this.#c, q.tailWord);
    if (!(tail >= 0 && tail < this.#layout.entries)) return;
    while (q.sqHead !== tail) {
      const cmd = decodeSqe(this.#c, this.#layout.sqeWord(q.index, q.sqHead));
      q.sqHead = q.sqHead + 1 === this.#layout.entries ? 0 : q.sqHead + 1;
      const op = statsOpIndex(cmd.opcode);
      this.#stats.fetched(q.index, op);
      this.#stats.completed(q.index, op, STATUS_ABORTED_SQ_DELETION, 0, 0, cmd);
      this.#post(q, cmd.cid, STATUS_ABORTED_SQ_DELETION);
    }
  }

  #deliverInterrupts(): void {
    this.#irqScheduled = false;
    for (let v = 0; v < this.#pendingIrq.length; v++) {
      if (this.#pendingIrq[v] === 0) continue;
      this.#pendingIrq[v] = 0;
      const word = this.#layout.vectorWord(v);
      Atomics.add(this.#c, word, 1);
      Atomics.notify(this.#c, word);
    }
  }

  #wakeAllVectors(): void {
    for (let v = 0; v < this.#layout.vectors; v++) this.#pendingIrq[v] = 1;
    this.#deliverInterrupts();
  }

  #setState(state: number): void {
    Atomics.store(this.#c, H_STATE, state);
    Atomics.notify(this.#c, H_STATE);
  }

  #fail(reason: string): void {
    if (this.#fatalReason !== undefined) return;
    this.#fatalReason = reason;
    this.#stopping = true;
    this.#setState(ControllerState.FATAL);
    for (const q of this.#queues) Atomics.notify(this.#c, q.tailWord);
    this.#wakeAllVectors();
  }
}
