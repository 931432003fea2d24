/**
 * The emulated NVMe-shaped controller's shared-memory contract: where every doorbell, ring entry
 * and namespace field lives in the control SharedArrayBuffer, and how entries are encoded. The
 * guest side (host.ts) and the device side (device.ts) both derive their offsets from
 * `controllerLayout`, so they cannot disagree; a UI can decode a dump of the buffer with it.
 *
 * Three buffers make a controller (see `allocateControllerBuffers`):
 * - control: header, doorbells, interrupt vectors, rings (this file);
 * - guest memory: a plain byte region the guest allocates its I/O buffers in (guest-memory.ts);
 *   commands name data by (offset, length) inside it, where NVMe would use PRP/SGL addresses;
 * - stats: live counters and latency histograms (stats.ts).
 *
 * Control buffer, all little-endian Int32 words ("w" = word index, byte = 4 * w):
 *   w0..15    header: magic 'DLNV', version, queueCount, queueDepth, vectorCount, state,
 *             sectorSize, sectorCount lo/hi, namespace flags, maxTransferBlocks
 *   then      vectorCount interrupt vectors, 16 words (one 64-byte cache line) each; word 0 is a
 *             counter the device bumps (Atomics.add + notify) after posting completions
 *   then      per queue a 16-word doorbell line: w0 SQ tail (host writes), w1 CQ head (host writes)
 *   then      per queue: SQ ring, (depth + 1) entries of 16 words (64 bytes, NVMe's SQE size),
 *             followed by the CQ ring, (depth + 1) entries of 4 words (16 bytes, NVMe's CQE size)
 * Rings follow NVMe: head and tail are slot indexes in [0, entries), a ring is empty when
 * head == tail and full when tail + 1 == head (mod entries), so `depth` entries are usable.
 * Queue q uses interrupt vector q % vectorCount. There is no admin queue: the control plane
 * (the worker API) creates the queues, so queue ids here are 0-based I/O queue indexes.
 *
 * Submission entry (NVMe NVM command set, PRPs replaced by guest-memory offset + length):
 *   DW0  opcode bits 7:0, command id bits 31:16     DW1  namespace id (always 1)
 *   DW6  data offset in guest memory (bytes)        DW7  data length (bytes)
 *   DW10 starting LBA low 32 bits                   DW11 starting LBA high 32 bits
 *   DW12 NLB bits 15:0 (zero-based: 0 means 1 block, as in NVMe), FUA bit 30
 *   other words are zero. DSM carries its single deallocate range in SLBA/NLB itself (NVMe puts a
 *   range list in memory); it needs no data and its length must be 0.
 * Completion entry:
 *   DW0  command specific (0)   DW1 reserved   DW2 SQ head bits 15:0, SQ id bits 31:16
 *   DW3  command id bits 15:0, phase tag bit 16, status field bits 31:17
 *        (status field: SC bits 7:0, SCT bits 10:8, DNR bit 14, as in NVMe)
 * The phase tag is 1 on the first pass through a CQ and flips on every wrap, so the host knows an
 * entry is new without reading the device's tail. DW3 is written last with Atomics.store and read
 * first with Atomics.load: that orders the rest of the entry (and, for reads, the data in guest
 * memory) before the host sees it. The SQ tail doorbell store orders an SQE the same way.
 *
 * Ownership: each queue pair has one producer (one guest thread) and one consumer (the device).
 * The device keeps its ring positions and phase for its whole life, across guest jobs; the
 * doorbells are the shared record of where the rings stand, so a host taking a queue over resumes
 * from them (SQ tail, CQ head) and from the CQ (the phase of the last entry reaped), never from 0.
 *
 * Errors: impossible configurations throw DiskConfigError naming the field.
 */
import { DiskConfigError } from '../disk/errors.ts';

export const CONTROL_MAGIC = 0x564e4c44; // 'DLNV' little-endian
export const LAYOUT_VERSION = 1;

/** NVM command set opcodes. */
export const Opcode = { FLUSH: 0x00, WRITE: 0x01, READ: 0x02, DSM: 0x09 } as const;
export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/** Controller state word (header word 5), a simplified CSTS; FATAL is CSTS.CFS (the host broke the protocol). */
export const ControllerState = { RESET: 0, READY: 1, SHUTTING_DOWN: 2, SHUT_DOWN: 3, FATAL: 4 } as const;

export const HEADER_WORDS = 16;
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_QUEUES = 2;
export const H_DEPTH = 3;
export const H_VECTORS = 4;
export const H_STATE = 5;
export const H_SECTOR_SIZE = 6;
export const H_SECTORS_LO = 7;
export const H_SECTORS_HI = 8;
export const H_NS_FLAGS = 9;
export const H_MAX_TRANSFER = 10;
/** Namespace flag bits in H_NS_FLAGS. */
export const NS_READ_ONLY = 1;
export const NS_FUA_RESPECTED = 2;

export const LINE_WORDS = 16;
export const DB_SQ_TAIL = 0;
export const DB_CQ_HEAD = 1;
export const SQE_WORDS = 16;
export const CQE_WORDS = 4;
export const NAMESPACE_ID = 1;
/** NVMe's NLB is 16 bits, zero-based: at most 65536 blocks per command. */
export const MAX_BLOCKS_PER_COMMAND = 0x10000;
export const MAX_COMMAND_ID = 0xffff;
const FUA_BIT = 1 << 30;
const DNR_BIT = 1 << 14;

export interface ControllerConfig {
  /** I/O queue pairs, 1..64. */
  readonly queues: number;
  /** Commands each queue holds outstanding, 1..4095 (rings have depth + 1 slots). */
  readonly depth: number;
  /** Interrupt vectors (wait words), 1..queues; default 1, so one guest thread can wait on all queues. */
  readonly vectors?: number;
}

export interface ControllerLayout {
  readonly queues: number;
  readonly depth: number;
  readonly vectors: number;
  /** Slots per ring: depth + 1. */
  readonly entries: number;
  readonly totalBytes: number;
  vectorWord(vector: number): number;
  vectorOf(queue: number): number;
  doorbellWord(queue: number, which: typeof DB_SQ_TAIL | typeof DB_CQ_HEAD): number;
  /** First word of SQ slot `slot` of `queue`. */
  sqeWord(queue: number, slot: number): number;
  cqeWord(queue: number, slot: number): number;
}

export function controllerLayout(config: ControllerConfig): ControllerLayout {
  const queues = config.queues;
  const depth = config.depth;
  const vectors = config.vectors ?? 1;
  checkInt('queues', queues, 1, 64);
  checkInt('depth', depth, 1, 4095);
  checkInt('vectors', vectors, 1, queues);
  const entries = depth + 1;
  const vectorBase = HEADER_WORDS;
  const doorbellBase = vectorBase + vectors * LINE_WORDS;
  const ringBase = doorbellBase + queues * LINE_WORDS;
  // Each queue's rings rounded up to whole cache lines so neighbours never share one.
  const sqWords = roundUp(entries * SQE_WORDS, LINE_WORDS);
  const cqWords = roundUp(entries * CQE_WORDS, LINE_WORDS);
  const perQueue = sqWords + cqWords;
  const totalWords = ringBase + queues * perQueue;
  return Object.freeze({
    queues,
    depth,
    vectors,
    entries,
    totalBytes: totalWords * 4,
    vectorWord: (vector: number) => vectorBase + vector * LINE_WORDS,
    vectorOf: (queue: number) => queue % vectors,
    doorbellWord: (queue: number, which: number) => doorbellBase + queue * LINE_WORDS + which,
    sqeWord: (queue: number, slot: number) => ringBase + queue * perQueue + slot * SQE_WORDS,
    cqeWord: (queue: number, slot: number) => ringBase + queue * perQueue + sqWords + slot * CQE_WORDS,
  });
}

/** Reads the layout a control buffer was initialised with (a worker receiving only the buffers). */
export function layoutOf(control: Int32Array): ControllerLayout {
  if (control[H_MAGIC] !== CONTROL_MAGIC || control[H_VERSION] !== LAYOUT_VERSION) {
    throw new DiskConfigError('INVALID_PARAMETER', 'control', 'buffer is not an initialised controller control region');
  }
  return controllerLayout({ queues: control[H_QUEUES]!, depth: control[H_DEPTH]!, vectors: control[H_VECTORS]! });
}

/** Writes the header of a fresh (zeroed) control buffer. */
export function initControl(control: Int32Array, layout: ControllerLayout): void {
  if (control.byteLength < layout.totalBytes) {
    throw new DiskConfigError('INVALID_PARAMETER', 'control', `control buffer of ${control.byteLength} bytes is smaller than the ${layout.totalBytes} the layout needs`);
  }
  control[H_VERSION] = LAYOUT_VERSION;
  control[H_QUEUES] = layout.queues;
  control[H_DEPTH] = layout.depth;
  control[H_VECTORS] = layout.vectors;
  Atomics.store(control, H_MAGIC, CONTROL_MAGIC);
}

/** The three shared buffers of one controller; structured-cloneable, so they can be posted to workers. */
export interface ControllerBuffers {
  readonly control: SharedArrayBuffer;
  readonly guestMemory: SharedArrayBuffer;
  readonly stats: SharedArrayBuffer;
}

/** A command as the guest describes it, before encoding. */
export interface Command {
  readonly opcode: OpcodeValue;
  readonly lba: number;
  /** Logical blocks, 1..65536 (encoded zero-based). Ignored for FLUSH. */
  readonly blocks: number;
  readonly fua?: boolean;
  /** Where the data is in guest memory (READ/WRITE); 0 and 0 for FLUSH and DSM. */
  readonly dataOffset?: number;
  readonly dataLength?: number;
}

/** A decoded submission entry, as the device sees it. */
export interface DecodedCommand {
  readonly opcode: number;
  readonly cid: number;
  readonly nsid: number;
  readonly lba: number;
  readonly blocks: number;
  readonly fua: boolean;
  readonly dataOffset: number;
  readonly dataLength: number;
}

export function encodeSqe(ring: Int32Array, at: number, cid: number, c: Command): void {
  const lba = c.lba;
  const nlb = c.opcode === Opcode.FLUSH ? 0 : c.blocks - 1;
  ring.fill(0, at, at + SQE_WORDS);
  ring[at] = (c.opcode & 0xff) | (cid << 16);
  ring[at + 1] = NAMESPACE_ID;
  ring[at + 6] = c.dataOffset ?? 0;
  ring[at + 7] = c.dataLength ?? 0;
  ring[at + 10] = lba % 2 ** 32;
  ring[at + 11] = Math.floor(lba / 2 ** 32);
  ring[at + 12] = (nlb & 0xffff) | (c.fua === true ? FUA_BIT : 0);
}

export function decodeSqe(ring: Int32Array, at: number): DecodedCommand {
  const dw0 = ring[at]!;
  const dw12 = ring[at + 12]!;
  return {
    opcode: dw0 & 0xff,
    cid: dw0 >>> 16,
    nsid: ring[at + 1]!,
    // An LBA past 2^53 is not exact; it is out of range for every disk, and the device says so.
    lba: (ring[at + 11]! >>> 0) * 2 ** 32 + (ring[at + 10]! >>> 0),
    blocks: (dw12 & 0xffff) + 1,
    fua: (dw12 & FUA_BIT) !== 0,
    dataOffset: ring[at + 6]! >>> 0,
    dataLength: ring[at + 7]! >>> 0,
  };
}

/** NVMe status field (15 bits: SC, SCT, DNR). 0 is success. */
export function statusField(sct: number, sc: number, dnr: boolean): number {
  return (sc & 0xff) | ((sct & 0x7) << 8) | (dnr ? DNR_BIT : 0);
}

export interface DecodedCqe {
  readonly cid: number;
  readonly phase: number;
  /** The 15-bit status field; 0 is success. */
  readonly status: number;
  readonly sct: number;
  readonly sc: number;
  readonly dnr: boolean;
  readonly sqHead: number;
  readonly sqId: number;
}

/** Writes a completion entry, DW3 (with the phase tag) last and atomically: see the module doc. */
export function writeCqe(ring: Int32Array, at: number, cid: number, status: number, phase: number, sqHead: number, sqId: number): void {
  ring[at] = 0;
  ring[at + 1] = 0;
  ring[at + 2] = (sqHead & 0xffff) | (sqId << 16);
  Atomics.store(ring, at + 3, (cid & 0xffff) | ((phase & 1) << 16) | (status << 17));
}

/** Phase tag of the entry at `at`, read atomically (the acquire half of writeCqe's store). */
export function cqePhase(ring: Int32Array, at: number): number {
  return (Atomics.load(ring, at + 3) >>> 16) & 1;
}

export function decodeCqe(ring: Int32Array, at: number): DecodedCqe {
  const dw3 = ring[at + 3]! >>> 0;
  const dw2 = ring[at + 2]! >>> 0;
  const status = dw3 >>> 17;
  return {
    cid: dw3 & 0xffff,
    phase: (dw3 >>> 16) & 1,
    status,
    sct: (status >>> 8) & 0x7,
    sc: status & 0xff,
    dnr: (status & DNR_BIT) !== 0,
    sqHead: dw2 & 0xffff,
    sqId: dw2 >>> 16,
  };
}

function checkInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DiskConfigError('INVALID_PARAMETER', field, `${field} ${value} is not an integer in [${min}, ${max}]`, { value });
  }
}

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}
