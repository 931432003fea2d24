/**
 * WorkloadEngine: the fio-like job as a state machine over the host side of the controller.
 * `step()` does all the work possible without waiting (reap every completion, check verified
 * reads, submit up to iodepth per queue within the rate limit, ring each doorbell once) and says
 * what to wait for next; the drivers in run.ts wait (blocking with Atomics.wait, or async) and
 * call `step()` again. Keeping the waiting out of the engine is what lets one engine serve a guest
 * worker that blocks and a same-thread guest that must not.
 *
 * Phases: main (the job's I/O), then for a job that writes with verify, a verify phase that reads
 * back every block the job wrote, in LBA order, and checks it; then done.
 *
 * All queues a job uses must share one interrupt vector (true with the default single vector),
 * because a blocking guest can wait on only one word.
 *
 * Errors: an impossible job throws DiskConfigError (job.ts). Failed I/Os are counted, never thrown.
 * If the controller stops or fails mid-job, the engine stops issuing, collects what completes and
 * ends with `aborted` set.
 */
import { DiskConfigError } from '../disk/errors.ts';
import { ControllerState, Opcode } from '../controller/layout.ts';
import type { ControllerHost, HostQueue } from '../controller/host.ts';
import type { Clock } from '../ports/clock.ts';
import { resolveJob, type JobSpec, type ResolvedJob } from './job.ts';
import { Prng } from './prng.ts';
import { OpAccumulator, type WorkloadResult } from './results.ts';
import { UNKNOWN_GENERATION, VerifyState, checkVerifyBlock, fillVerifyBlock, type VerifyMismatch } from './verify.ts';

export interface EngineOptions {
  readonly clock: Clock;
  /** Expected generations from earlier jobs (same offset and bs), to verify their data. */
  readonly verifyState?: VerifyState;
  /** Mismatches kept in detail; all are counted. Default 1000. */
  readonly maxMismatchReports?: number;
}

export type StepResult =
  | { readonly done: true }
  | { readonly done: false; readonly seen: number; readonly wakeAtNs: number | undefined; readonly outstanding: number };

interface Slot {
  readonly offset: number;
  readonly view: Uint8Array;
  block: number;
  write: boolean;
  generation: number;
  submitNs: number;
  verifyPhase: boolean;
}

type Phase = 'main' | 'verify' | 'done';

export class WorkloadEngine {
  readonly job: ResolvedJob;
  readonly vector: number;
  readonly verifyState: VerifyState;
  readonly #host: ControllerHost;
  readonly #clock: Clock;
  readonly #queues: HostQueue[];
  /** Per queue, slot of each command id in flight. */
  readonly #slotOfCid: (Slot | undefined)[][];
  readonly #freeSlots: Slot[][];
  readonly #busy = new Set<number>();
  readonly #written = new Set<number>();
  readonly #prng: Prng;
  readonly #read = new OpAccumulator();
  readonly #write = new OpAccumulator();
  readonly #verifyReads = new OpAccumulator();
  readonly #mismatches: VerifyMismatch[] = [];
  readonly #maxReports: number;
  #mismatchCount = 0;
  #blocksChecked = 0;
  #phase: Phase = 'main';
  #startNs: number | undefined;
  #mainEndNs = 0;
  #verifyStartNs = 0;
  #verifyEndNs = 0;
  #issued = 0;
  #outstanding = 0;
  #seqCursor = 0;
  #verifyList: number[] = [];
  #verifyCursor = 0;
  #aborted: string | undefined;
  readonly #memoryMark: number;

  constructor(host: ControllerHost, spec: JobSpec, options: EngineOptions) {
    const ns = host.namespace();
    if (ns === undefined) throw new DiskConfigError('INVALID_PARAMETER', 'controller', 'controller is not ready');
    this.job = resolveJob(spec, ns, host.layout);
    this.#host = host;
    this.#clock = options.clock;
    this.#maxReports = options.maxMismatchReports ?? 1000;
    this.#prng = new Prng(this.job.seed);
    const vs = options.verifyState;
    if (vs !== undefined && (vs.offset !== this.job.offset || vs.bs !== this.job.bs)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'verifyState', `verify state is for offset ${vs.offset} bs ${vs.bs}, not offset ${this.job.offset} bs ${this.job.bs}`);
    }
    this.verifyState = vs ?? new VerifyState(this.job.offset, this.job.bs);
    this.#queues = Array.from({ length: this.job.queues }, (_, q) => host.queue(q));
    this.vector = this.#queues[0]!.vector;
    if (this.#queues.some((q) => q.vector !== this.vector)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'queues', 'the queues of one job must share an interrupt vector');
    }
    const fill = new Prng(this.job.seed ^ 0x5eed);
    this.#memoryMark = host.memory.used;
    this.#slotOfCid = this.#queues.map((q) => new Array<Slot | undefined>(q.depth).fill(undefined));
    this.#freeSlots = this.#queues.map(() =>
      Array.from({ length: this.job.iodepth }, () => {
        const offset = host.memory.alloc(this.job.bs);
        const view = host.memory.view(offset, this.job.bs);
        // Unverified writes carry this random data, drawn once rather than per I/O.
        const w = new Uint32Array(view.buffer, view.byteOffset, view.length >>> 2);
        for (let i = 0; i < w.length; i++) w[i] = fill.nextU32();
        return { offset, view, block: 0, write: false, generation: 0, submitNs: 0, verifyPhase: false };
      }),
    );
  }

  /** Returns the job's guest-memory buffers; call once the job is done. */
  release(): void {
    this.#host.memory.rewind(this.#memoryMark);
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  get done(): boolean {
    return this.#phase === 'done';
  }

  step(): StepResult {
    if (this.#phase === 'done') return { done: true };
    const seen = this.#host.interruptCount(this.vector);
    const now = this.#clock.nowNs();
    this.#startNs ??= now;
    for (let q = 0; q < this.#queues.length; q++) {
      for (const c of this.#queues[q]!.reap()) this.#complete(q, c.cid, c.status, now);
    }
    const state = this.#host.state;
    if (state !== ControllerState.READY && this.#aborted === undefined) {
      this.#aborted = state === ControllerState.FATAL ? 'controller failed' : 'controller shut down';
    }
    if (this.#aborted !== undefined && (this.#outstanding === 0 || state === ControllerState.SHUT_DOWN || state === ControllerState.FATAL)) {
      if (this.#phase === 'main') this.#mainEndNs = now;
      else this.#verifyEndNs = now;
      this.#phase = 'done';
      return { done: true };
    }
    let wakeAtNs: number | undefined;
    if (this.#phase === 'main') {
      wakeAtNs = this.#issueMain(now);
      if (!this.#moreMain(now) && this.#outstanding === 0) {
        this.#mainEndNs = now;
        this.#phase = this.job.verify && this.#written.size > 0 ? 'verify' : 'done';
        if (this.#phase === 'verify') {
          this.#verifyList = [...this.#written].sort((a, b) => a - b);
          this.#verifyStartNs = now;
        }
      }
    }
    if (this.#phase === 'verify') {
      this.#issueVerify(now);
      if (this.#verifyCursor >= this.#verifyList.length && this.#outstanding === 0) {
        this.#verifyEndNs = now;
        this.#phase = 'done';
      }
    }
    if (this.#phase === 'done') return { done: true };
    return { done: false, seen, wakeAtNs, outstanding: this.#outstanding };
  }

  result(): WorkloadResult {
    const mainNs = this.#mainEndNs - (this.#startNs ?? 0);
    const verifyRan = this.job.verify || this.#blocksChecked > 0;
    return {
      job: this.job,
      runtimeNs: mainNs,
      read: this.#read.summary(mainNs),
      write: this.#write.summary(mainNs),
      verify: verifyRan
        ? {
            blocksChecked: this.#blocksChecked,
            mismatches: this.#mismatchCount,
            reports: this.#mismatches.slice(),
            reads: this.#verifyReads.summary(this.#verifyEndNs - this.#verifyStartNs),
          }
        : undefined,
      aborted: this.#aborted,
    };
  }

  #moreMain(now: number): boolean {
    if (this.#aborted !== undefined || this.#issued >= this.job.ios) return false;
    return this.job.runtimeNs === undefined || now - this.#startNs! < this.job.runtimeNs;
  }

  /** Issues main-phase I/O; returns when a timer should wake the driver (rate or runtime), if any. */
  #issueMain(now: number): number | undefined {
    const job = this.job;
    const start = this.#startNs!;
    const interval = job.rateIops > 0 ? 1e9 / job.rateIops : 0;
    // The runtime deadline is a reason to wake only while it is still ahead; once past it the
    // engine waits for completions alone (a zero timeout would make the drivers spin).
    let wake: number | undefined = job.runtimeNs === undefined || !this.#moreMain(now) ? undefined : start + job.runtimeNs;
    for (let q = 0; q < this.#queues.length; q++) {
      const queue = this.#queues[q]!;
      const free = this.#freeSlots[q]!;
      let submitted = false;
      while (free.length > 0 && this.#moreMain(now)) {
        const due = start + this.#issued * interval;
        if (due > now) {
          wake = wake === undefined ? due : Math.min(wake, due);
          break;
        }
        const slot = free.pop()!;
        slot.block = this.#pickBlock();
        slot.write = job.readPercent === 0 || (job.readPercent < 100 && this.#prng.nextFloat() * 100 >= job.readPercent);
        slot.verifyPhase = false;
        this.#submit(q, queue, slot, now);
        submitted = true;
      }
      if (submitted) queue.ringDoorbell();
    }
    return wake;
  }

  #issueVerify(now: number): void {
    for (let q = 0; q < this.#queues.length; q++) {
      const queue = this.#queues[q]!;
      const free = this.#freeSlots[q]!;
      let submitted = false;
      while (free.length > 0 && this.#verifyCursor < this.#verifyList.length) {
        const slot = free.pop()!;
        slot.block = this.#verifyList[this.#verifyCursor++]!;
        slot.write = false;
        slot.verifyPhase = true;
        this.#busy.add(slot.block);
        this.#submit(q, queue, slot, now);
        submitted = true;
      }
      if (submitted) queue.ringDoorbell();
    }
  }

  /** A block with no I/O in flight: uniform random, or the sequential cursor, skipping busy ones. */
  #pickBlock(): number {
    const blocks = this.job.blocks;
    let b = this.job.random ? this.#prng.nextInt(blocks) : this.#seqCursor;
    while (this.#busy.has(b)) b = b + 1 === blocks ? 0 : b + 1;
    if (!this.job.random) this.#seqCursor = b + 1 === blocks ? 0 : b + 1;
    this.#busy.add(b);
    return b;
  }

  #lbaOf(block: number): number {
    return (this.job.offset + block * this.job.bs) / this.job.sectorSize;
  }

  #submit(q: number, queue: HostQueue, slot: Slot, now: number): void {
    const job = this.job;
    const lba = this.#lbaOf(slot.block);
    if (slot.write && job.verify) {
      slot.generation = this.verifyState.nextGeneration();
      fillVerifyBlock(slot.view, lba, slot.generation, job.seed);
    }
    slot.submitNs = now;
    const cid = queue.trySubmit(
      { opcode: slot.write ? Opcode.WRITE : Opcode.READ, lba, blocks: job.blocksPerIo, fua: slot.write && job.fua, dataOffset: slot.offset, dataLength: job.bs },
      false,
    );
    // Never -1: a queue has at most iodepth <= depth of this job's commands outstanding.
    this.#slotOfCid[q]![cid] = slot;
    this.#outstanding++;
    if (!slot.verifyPhase) this.#issued++;
  }

  #complete(q: number, cid: number, status: number, now: number): void {
    const slot = this.#slotOfCid[q]![cid];
    if (slot === undefined) return;
    this.#slotOfCid[q]![cid] = undefined;
    this.#outstanding--;
    const latency = now - slot.submitNs;
    const gens = this.verifyState.generations;
    const acc = slot.verifyPhase ? this.#verifyReads : slot.write ? this.#write : this.#read;
    if (status !== 0) {
      acc.fail(status);
      // A failed write may have landed partly: the block's contents are now unknown.
      if (slot.write) gens.set(slot.block, UNKNOWN_GENERATION);
    } else {
      acc.ok(latency, this.job.bs);
      if (slot.write) {
        gens.set(slot.block, this.job.verify ? slot.generation : UNKNOWN_GENERATION);
        if (this.job.verify) this.#written.add(slot.block);
      } else if (this.job.verify) {
        this.#check(slot);
      }
    }
    this.#busy.delete(slot.block);
    this.#freeSlots[q]!.push(slot);
  }

  #check(slot: Slot): void {
    const expected = this.verifyState.generations.get(slot.block);
    if (expected === UNKNOWN_GENERATION) return;
    this.#blocksChecked++;
    const mismatch = checkVerifyBlock(slot.view, this.#lbaOf(slot.block), expected);
    if (mismatch === undefined) return;
    this.#mismatchCount++;
    if (this.#mismatches.length < this.#maxReports) this.#mismatches.push(mismatch);
  }
}
