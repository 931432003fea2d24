/**
 * Per-layer read attribution in a SharedArrayBuffer: the disk worker writes a stack's counts
 * (LayeredDisk.readStats(), summed across recompositions), and the page reads them every animation
 * frame with no message.
 *
 * Layout (host byte order; both sides are the same machine):
 *   bytes 0..15     Int32 header: w0 magic 'DLAT', w1 version, w2 layer count in use, w3 sequence
 *                   (a seqlock: odd while the writer is updating)
 *   from byte 16    Float64 slots (counts exact to 2^53): slot 0 zero-filled sectors, then one slot
 *                   per layer (top first) for sectors that layer served; the capacity (how many
 *                   layers fit) follows from the buffer's length.
 *
 * There is one writer. `readAttribution` copies the slots between two reads of the sequence and
 * retries while it is odd or changed; after a few failed tries it returns the last copy with
 * `consistent: false` rather than spin on a busy writer.
 *
 * Errors: DiskConfigError('INVALID_PARAMETER') for a bad capacity, a buffer that is not an
 * initialised attribution region, or more layers than the buffer holds.
 */
import { DiskConfigError } from '../disk/errors.ts';

export const ATTRIBUTION_MAGIC = 0x54414c44; // 'DLAT'
export const ATTRIBUTION_VERSION = 1;

const HEADER_BYTES = 16;
const W_MAGIC = 0;
const W_VERSION = 1;
const W_LAYERS = 2;
const W_SEQ = 3;
const READ_TRIES = 4;

export interface AttributionSnapshot {
  /** Per layer, top first: sectors it served to reads. */
  readonly servedSectors: readonly number[];
  readonly zeroFilledSectors: number;
  /** False when the writer kept changing the counts during every try. */
  readonly consistent: boolean;
}

export function attributionBytes(capacity: number): number {
  return HEADER_BYTES + (1 + capacity) * 8;
}

/** A zeroed, initialised region for up to `capacity` layers (0 layers in use). */
export function createAttributionBuffer(capacity: number): SharedArrayBuffer {
  if (!Number.isSafeInteger(capacity) || capacity < 0 || capacity > 1 << 16) {
    throw new DiskConfigError('INVALID_PARAMETER', 'capacity', `attribution capacity ${capacity} is not an integer in [0, 65536]`, { value: capacity });
  }
  const buf = new SharedArrayBuffer(attributionBytes(capacity));
  const h = new Int32Array(buf, 0, HEADER_BYTES / 4);
  h[W_VERSION] = ATTRIBUTION_VERSION;
  Atomics.store(h, W_MAGIC, ATTRIBUTION_MAGIC);
  return buf;
}

/** How many layers the region can hold. */
export function attributionCapacity(buf: SharedArrayBuffer): number {
  return Math.max(0, (buf.byteLength - HEADER_BYTES) / 8 - 1);
}

function open(buf: SharedArrayBuffer): { header: Int32Array; slots: Float64Array } {
  const header = new Int32Array(buf, 0, buf.byteLength < attributionBytes(0) ? 0 : HEADER_BYTES / 4);
  if (header.length === 0 || Atomics.load(header, W_MAGIC) !== ATTRIBUTION_MAGIC || header[W_VERSION] !== ATTRIBUTION_VERSION) {
    throw new DiskConfigError('INVALID_PARAMETER', 'attribution', 'buffer is not an initialised attribution region');
  }
  return { header, slots: new Float64Array(buf, HEADER_BYTES, 1 + attributionCapacity(buf)) };
}

/** The writer: one seqlock-bracketed update of every count. */
export function writeAttribution(buf: SharedArrayBuffer, servedSectors: readonly number[], zeroFilledSectors: number): void {
  const { header, slots } = open(buf);
  if (servedSectors.length > slots.length - 1) {
    throw new DiskConfigError('INVALID_PARAMETER', 'layers', `${servedSectors.length} layers do not fit an attribution region for ${slots.length - 1}`, { value: servedSectors.length });
  }
  Atomics.add(header, W_SEQ, 1); // odd: readers retry
  slots[0] = zeroFilledSectors;
  servedSectors.forEach((n, i) => (slots[i + 1] = n));
  Atomics.store(header, W_LAYERS, servedSectors.length);
  Atomics.add(header, W_SEQ, 1);
}

/** The reader: a copy taken while the sequence stayed even and unchanged (see the module doc). */
export function readAttribution(buf: SharedArrayBuffer): AttributionSnapshot {
  const { header, slots } = open(buf);
  let snapshot: AttributionSnapshot | undefined;
  for (let tries = 0; tries < READ_TRIES; tries++) {
    const before = Atomics.load(header, W_SEQ);
    const layers = Math.min(Atomics.load(header, W_LAYERS), slots.length - 1);
    const zeroFilledSectors = slots[0]!;
    const servedSectors = Array.from(slots.subarray(1, 1 + layers));
    const consistent = before % 2 === 0 && Atomics.load(header, W_SEQ) === before;
    snapshot = { servedSectors, zeroFilledSectors, consistent };
    if (consistent) break;
  }
  return snapshot!;
}
