/**
 * On-disk format of a persistent layer (persistent-layer.ts): the metadata file's two header
 * slots and the metadata record they point at. The data file is only an array of chunk slots and
 * has no format of its own.
 *
 * Metadata file
 * - bytes [0, 4096) and [4096, 8192): header slots A and B. Generation g lives in slot g % 2.
 *   A header (little-endian) holds: magic "DLPLAYR1", version, sector size, physical sector
 *   size, chunk sectors, generation, sector count, the metadata record's offset, length and
 *   CRC-32C, and the layer's 16-byte id; its last 4 bytes are the CRC-32C of the rest.
 * - from 8192: metadata records, written at a place that overlaps no record a header may still
 *   point at (see persistent-layer.ts).
 *
 * Metadata record: magic "PLMD", chunk count, zero-extent count, then each zero extent
 * (float64 start and end chunk index), then each chunk: float64 index, int32 slot (-1: no data
 * slot), uint32 flags (1 all present, 2 all data, 4 no data), then the present bitmap unless all
 * present, and the has-data bitmap unless all or no data.
 *
 * Errors: every decoding problem is `DiskError('CORRUPT_IMAGE')` naming the field; a header that
 * fails its CRC is simply not valid (`decodeHeader` returns undefined), because a torn header
 * write is the expected result of a crash, not corruption.
 */
import { crc32c } from '../checksum/crc32c.ts';
import { DiskError } from '../disk/errors.ts';
import { wordsFor } from './sector-bitmap.ts';

export const HEADER_SLOT_BYTES = 4096;
export const RECORDS_START = 2 * HEADER_SLOT_BYTES;
const HEADER_BYTES = 512;
const MAGIC = 'DLPLAYR1';
const RECORD_MAGIC = 0x444d4c50; // "PLMD" little-endian
const VERSION = 1;

export interface LayerHeader {
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly chunkSectors: number;
  readonly generation: number;
  readonly sectors: number;
  readonly recordOffset: number;
  readonly recordLength: number;
  readonly recordCrc: number;
  readonly layerId: Uint8Array;
}

export function encodeHeader(h: LayerHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  v.setUint32(8, VERSION, true);
  v.setUint32(12, h.sectorSize, true);
  v.setUint32(16, h.physicalSectorSize, true);
  v.setUint32(20, h.chunkSectors, true);
  v.setFloat64(24, h.generation, true);
  v.setFloat64(32, h.sectors, true);
  v.setFloat64(40, h.recordOffset, true);
  v.setFloat64(48, h.recordLength, true);
  v.setUint32(56, h.recordCrc, true);
  bytes.set(h.layerId.subarray(0, 16), 64);
  v.setUint32(HEADER_BYTES - 4, crc32c(bytes.subarray(0, HEADER_BYTES - 4)), true);
  return bytes;
}

/** The header in `bytes`, or undefined if it is not a whole, valid header (never written, or torn). */
export function decodeHeader(bytes: Uint8Array): LayerHeader | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return undefined;
  if (v.getUint32(HEADER_BYTES - 4, true) !== crc32c(bytes.subarray(0, HEADER_BYTES - 4))) return undefined;
  if (v.getUint32(8, true) !== VERSION) {
    throw new DiskError('CORRUPT_IMAGE', `persistent layer: unsupported version ${v.getUint32(8, true)}`, { field: 'version' });
  }
  const h: LayerHeader = {
    sectorSize: v.getUint32(12, true),
    physicalSectorSize: v.getUint32(16, true),
    chunkSectors: v.getUint32(20, true),
    generation: v.getFloat64(24, true),
    sectors: v.getFloat64(32, true),
    recordOffset: v.getFloat64(40, true),
    recordLength: v.getFloat64(48, true),
    recordCrc: v.getUint32(56, true),
    layerId: bytes.slice(64, 80),
  };
  const ints = [h.generation, h.sectors, h.recordOffset, h.recordLength];
  if (!ints.every((n) => Number.isSafeInteger(n) && n >= 0) || h.recordOffset < RECORDS_START || h.chunkSectors < 1) {
    throw new DiskError('CORRUPT_IMAGE', 'persistent layer: a header with a valid checksum holds impossible values', { field: 'header' });
  }
  return h;
}

export interface ChunkRecord {
  readonly index: number;
  /** Data slot in the data file, or -1 when the chunk holds no data sectors. */
  readonly slot: number;
  readonly present: Uint32Array;
  readonly hasData: Uint32Array;
  readonly presentCount: number;
  readonly dataCount: number;
}

export interface LayerRecord {
  readonly zeroExtents: ReadonlyArray<readonly [number, number]>;
  readonly chunks: readonly ChunkRecord[];
}

const ALL_PRESENT = 1;
const ALL_DATA = 2;
const NO_DATA = 4;

export function encodeRecord(record: LayerRecord, chunkSectors: number): Uint8Array {
  const words = wordsFor(chunkSectors);
  let length = 16 + record.zeroExtents.length * 16;
  for (const c of record.chunks) {
    length += 16;
    if (c.presentCount !== chunkSectors) length += words * 4;
    if (c.dataCount !== 0 && c.dataCount !== chunkSectors) length += words * 4;
  }
  const bytes = new Uint8Array(length);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, RECORD_MAGIC, true);
  v.setUint32(4, record.chunks.length, true);
  v.setUint32(8, record.zeroExtents.length, true);
  let at = 16;
  for (const [s, e] of record.zeroExtents) {
    v.setFloat64(at, s, true);
    v.setFloat64(at + 8, e, true);
    at += 16;
  }
  const putBits = (bits: Uint32Array) => {
    for (let i = 0; i < words; i++) v.setUint32(at + i * 4, bits[i]!, true);
    at += words * 4;
  };
  for (const c of record.chunks) {
    const flags = (c.presentCount === chunkSectors ? ALL_PRESENT : 0) | (c.dataCount === chunkSectors ? ALL_DATA : 0) | (c.dataCount === 0 ? NO_DATA : 0);
    v.setFloat64(at, c.index, true);
    v.setInt32(at + 8, c.slot, true);
    v.setUint32(at + 12, flags, true);
    at += 16;
    if (!(flags & ALL_PRESENT)) putBits(c.present);
    if (!(flags & (ALL_DATA | NO_DATA))) putBits(c.hasData);
  }
  return bytes;
}

export function decodeRecord(bytes: Uint8Array, chunkSectors: number, chunkCount: number): LayerRecord {
  const bad = (why: string): never => {
    throw new DiskError('CORRUPT_IMAGE', `persistent layer metadata: ${why}`, { field: 'metadata' });
  };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 || v.getUint32(0, true) !== RECORD_MAGIC) bad('bad magic');
  const words = wordsFor(chunkSectors);
  const nChunks = v.getUint32(4, true);
  const nZero = v.getUint32(8, true);
  let at = 16;
  const need = (n: number) => {
    if (at + n > bytes.length) bad('truncated record');
  };
  const zeroExtents: Array<[number, number]> = [];
  for (let i = 0; i < nZero; i++) {
    need(16);
    const s = v.getFloat64(at, true);
    const e = v.getFloat64(at + 8, true);
    if (!Number.isSafeInteger(s) || !Number.isSafeInteger(e) || s < 0 || e <= s || e > chunkCount) bad(`zero extent [${s}, ${e})`);
    zeroExtents.push([s, e]);
    at += 16;
  }
  const full = () => {
    const bits = new Uint32Array(words);
    for (let i = 0; i < chunkSectors; i += 32) bits[i >>> 5] = chunkSectors - i >= 32 ? 0xffffffff : (1 << (chunkSectors - i)) - 1;
    return bits;
  };
  const getBits = () => {
    need(words * 4);
    const bits = new Uint32Array(words);
    for (let i = 0; i < words; i++) bits[i] = v.getUint32(at + i * 4, true);
    at += words * 4;
    return bits;
  };
  const chunks: ChunkRecord[] = [];
  for (let i = 0; i < nChunks; i++) {
    need(16);
    const index = v.getFloat64(at, true);
    const slot = v.getInt32(at + 8, true);
    const flags = v.getUint32(at + 12, true);
    at += 16;
    if (!Number.isSafeInteger(index) || index < 0 || index >= chunkCount) bad(`chunk index ${index}`);
    const present = flags & ALL_PRESENT ? full() : getBits();
    const hasData = flags & ALL_DATA ? full() : flags & NO_DATA ? new Uint32Array(words) : getBits();
    const presentCount = popcountAll(present, chunkSectors);
    const dataCount = popcountAll(hasData, chunkSectors);
    for (let w = 0; w < words; w++) if ((hasData[w]! & ~present[w]!) !== 0) bad(`chunk ${index} has data in absent sectors`);
    if ((dataCount > 0) !== (slot >= 0)) bad(`chunk ${index}: data slot ${slot} does not match ${dataCount} data sectors`);
    chunks.push({ index, slot, present, hasData, presentCount, dataCount });
  }
  return { zeroExtents, chunks };
}

function popcountAll(bits: Uint32Array, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) if ((bits[i >>> 5]! >>> (i & 31)) & 1) total++;
  return total;
}
