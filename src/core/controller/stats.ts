/**
 * Live controller statistics in a SharedArrayBuffer: the device writes them as commands flow, and
 * a UI reads them every animation frame with no message per I/O.
 *
 * Layout of the stats buffer (little-endian):
 *   bytes 0..63     Int32 header: w0 magic 'DLST', w1 version, w2 queue count, w3 sequence
 *                   (a seqlock: odd while the device is updating), w4 op count (4)
 *   from byte 64    Float64 slots (counts are exact to 2^53):
 *                   per queue, 8 slots: inFlight, fetched, completed, errors, peakInFlight, 0, 0, 0
 *                   per op (read, write, flush, dsm), 8 + LatencyHistogram.STORAGE_LENGTH slots:
 *                     ops (successful), bytes, errors, inFlight, 0, 0, 0, 0, then the histogram
 *                     (stats/latency-histogram.ts storage: count, sum, min, max, fio's 1856
 *                     log-linear buckets)
 *                   last error, 8 slots: count, status field, LBA, queue, command id, opcode, 0, 0
 * Latency is device-side completion latency: from fetching the SQE to posting the CQE, in ns from
 * the device's Clock. Like MeteredDisk, only successful commands enter `ops`, `bytes` and the
 * histogram; failures count in `errors` (per op and per queue) and in the last-error record.
 * Commands with an unknown opcode count only per queue and in the last error.
 *
 * There is one writer (the device). `readControllerStats` copies the slots between two reads of
 * the sequence and retries if it changed, so a snapshot is consistent; after a few failed tries it
 * returns the last copy with `consistent: false` rather than spin on a busy device.
 */
import { DiskConfigError } from '../disk/errors.ts';
import { LatencyHistogram } from '../stats/latency-histogram.ts';
import { Opcode } from './layout.ts';

export const STATS_MAGIC = 0x54534c44; // 'DLST'
export const STATS_VERSION = 1;
export type StatsOp = 'read' | 'write' | 'flush' | 'dsm';
export const STATS_OPS: readonly StatsOp[] = ['read', 'write', 'flush', 'dsm'];

const HEADER_BYTES = 64;
const S_MAGIC = 0;
const S_VERSION = 1;
const S_QUEUES = 2;
const S_SEQ = 3;
const S_OPS = 4;
const QUEUE_SLOTS = 8;
const OP_HEADER_SLOTS = 8;
const OP_SLOTS = OP_HEADER_SLOTS + LatencyHistogram.STORAGE_LENGTH;
const LAST_ERROR_SLOTS = 8;

// Queue slot offsets.
const Q_IN_FLIGHT = 0;
const Q_FETCHED = 1;
const Q_COMPLETED = 2;
const Q_ERRORS = 3;
const Q_PEAK = 4;
// Op slot offsets.
const O_OPS = 0;
const O_BYTES = 1;
const O_ERRORS = 2;
const O_IN_FLIGHT = 3;

function slotCount(queues: number): number {
  return queues * QUEUE_SLOTS + STATS_OPS.length * OP_SLOTS + LAST_ERROR_SLOTS;
}

export function statsBytes(queues: number): number {
  return HEADER_BYTES + slotCount(queues) * 8;
}

export function initStats(stats: SharedArrayBuffer, queues: number): void {
  if (stats.byteLength < statsBytes(queues)) {
    throw new DiskConfigError('INVALID_PARAMETER', 'stats', `stats buffer of ${stats.byteLength} bytes is smaller than ${statsBytes(queues)}`);
  }
  const h = new Int32Array(stats, 0, HEADER_BYTES / 4);
  h[S_VERSION] = STATS_VERSION;
  h[S_QUEUES] = queues;
  h[S_OPS] = STATS_OPS.length;
  Atomics.store(h, S_MAGIC, STATS_MAGIC);
}

function openStats(stats: SharedArrayBuffer): { header: Int32Array; slots: Float64Array; queues: number } {
  const header = new Int32Array(stats, 0, HEADER_BYTES / 4);
  if (Atomics.load(header, S_MAGIC) !== STATS_MAGIC || header[S_VERSION] !== STATS_VERSION) {
    throw new DiskConfigError('INVALID_PARAMETER', 'stats', 'buffer is not an initialised controller stats region');
  }
  const queues = header[S_QUEUES]!;
  return { header, slots: new Float64Array(stats, HEADER_BYTES, slotCount(queues)), queues };
}

/** Which stats op an NVMe opcode counts as, or undefined for an opcode the controller does not know. */
export function statsOpIndex(opcode: number): number | undefined {
  switch (opcode) {
    case Opcode.READ:
      return 0;
    case Opcode.WRITE:
      return 1;
    case Opcode.FLUSH:
      return 2;
    case Opcode.DSM:
      return 3;
    default:
      return undefined;
  }
}

/** The device's writer. Every method is one seqlock-bracketed update. */
export class ControllerStatsWriter {
  readonly #header: Int32Array;
  readonly #s: Float64Array;
  readonly #queues: number;
  readonly #histograms: LatencyHistogram[];

  constructor(stats: SharedArrayBuffer) {
    const { header, slots, queues } = openStats(stats);
    this.#header = header;
    this.#s = slots;
    this.#queues = queues;
    this.#histograms = STATS_OPS.map((_, i) => {
      const at = this.#opBase(i) + OP_HEADER_SLOTS;
      return new LatencyHistogram(slots.subarray(at, at + LatencyHistogram.STORAGE_LENGTH));
    });
  }

  /** A command was fetched from queue `queue`'s SQ. */
  fetched(queue: number, op: number | undefined): void {
    const s = this.#s;
    const q = queue * QUEUE_SLOTS;
    Atomics.add(this.#header, S_SEQ, 1);
    const inFlight = (s[q + Q_IN_FLIGHT]! += 1);
    s[q + Q_FETCHED]! += 1;
    if (inFlight > s[q + Q_PEAK]!) s[q + Q_PEAK] = inFlight;
    if (op !== undefined) s[this.#opBase(op) + O_IN_FLIGHT]! += 1;
    Atomics.add(this.#header, S_SEQ, 1);
  }

  /** A command completed; `status` 0 is success. `bytes` counts only on success. */
  completed(queue: number, op: number | undefined, status: number, bytes: number, latencyNs: number, detail: { lba: number; cid: number; opcode: number }): void {
    const s = this.#s;
    const q = queue * QUEUE_SLOTS;
    Atomics.add(this.#header, S_SEQ, 1);
    s[q + Q_IN_FLIGHT]! -= 1;
    s[q + Q_COMPLETED]! += 1;
    if (status !== 0) s[q + Q_ERRORS]! += 1;
    if (op !== undefined) {
      const o = this.#opBase(op);
      s[o + O_IN_FLIGHT]! -= 1;
      if (status === 0) {
        s[o + O_OPS]! += 1;
        s[o + O_BYTES]! += bytes;
        this.#histograms[op]!.add(latencyNs);
      } else {
        s[o + O_ERRORS]! += 1;
      }
    }
    if (status !== 0) {
      const e = this.#lastErrorBase();
      s[e]! += 1;
      s[e + 1] = status;
      s[e + 2] = detail.lba;
      s[e + 3] = queue;
      s[e + 4] = detail.cid;
      s[e + 5] = detail.opcode;
    }
    Atomics.add(this.#header, S_SEQ, 1);
  }

  #opBase(op: number): number {
    return this.#queues * QUEUE_SLOTS + op * OP_SLOTS;
  }

  #lastErrorBase(): number {
    return this.#queues * QUEUE_SLOTS + STATS_OPS.length * OP_SLOTS;
  }
}

export interface QueueStats {
  readonly inFlight: number;
  readonly fetched: number;
  readonly completed: number;
  readonly errors: number;
  readonly peakInFlight: number;
}

export interface OpStatsView {
  readonly ops: number;
  readonly bytes: number;
  readonly errors: number;
  readonly inFlight: number;
  /** A private copy: compute `percentiles()` from it freely. */
  readonly latency: LatencyHistogram;
}

export interface LastError {
  readonly count: number;
  readonly status: number;
  readonly lba: number;
  readonly queue: number;
  readonly cid: number;
  readonly opcode: number;
}

export interface ControllerStatsSnapshot {
  /** False if the device kept updating while every retry copied; the numbers may then disagree slightly. */
  readonly consistent: boolean;
  readonly queues: readonly QueueStats[];
  readonly ops: Readonly<Record<StatsOp, OpStatsView>>;
  /** Undefined until the first failed command. */
  readonly lastError: LastError | undefined;
}

/** Reads a consistent snapshot of the stats buffer (see the module doc). */
export function readControllerStats(stats: SharedArrayBuffer, maxTries = 8): ControllerStatsSnapshot {
  const { header, slots, queues } = openStats(stats);
  let copy = new Float64Array(0);
  let consistent = false;
  for (let tries = 0; tries < maxTries && !consistent; tries++) {
    const before = Atomics.load(header, S_SEQ);
    copy = slots.slice();
    consistent = (before & 1) === 0 && Atomics.load(header, S_SEQ) === before;
  }
  const queueStats: QueueStats[] = [];
  for (let q = 0; q < queues; q++) {
    const b = q * QUEUE_SLOTS;
    queueStats.push({
      inFlight: copy[b + Q_IN_FLIGHT]!,
      fetched: copy[b + Q_FETCHED]!,
      completed: copy[b + Q_COMPLETED]!,
      errors: copy[b + Q_ERRORS]!,
      peakInFlight: copy[b + Q_PEAK]!,
    });
  }
  const opView = (i: number): OpStatsView => {
    const b = queues * QUEUE_SLOTS + i * OP_SLOTS;
    const hist = copy.subarray(b + OP_HEADER_SLOTS, b + OP_HEADER_SLOTS + LatencyHistogram.STORAGE_LENGTH);
    return { ops: copy[b + O_OPS]!, bytes: copy[b + O_BYTES]!, errors: copy[b + O_ERRORS]!, inFlight: copy[b + O_IN_FLIGHT]!, latency: new LatencyHistogram(hist) };
  };
  const e = queues * QUEUE_SLOTS + STATS_OPS.length * OP_SLOTS;
  const lastError: LastError | undefined =
    copy[e] === 0
      ? undefined
      : { count: copy[e]!, status: copy[e + 1]!, lba: copy[e + 2]!, queue: copy[e + 3]!, cid: copy[e + 4]!, opcode: copy[e + 5]! };
  return {
    consistent,
    queues: queueStats,
    ops: { read: opView(0), write: opView(1), flush: opView(2), dsm: opView(3) },
    lastError,
  };
}
