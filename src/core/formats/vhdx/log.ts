/**
 * VHDX log replay (MS-VHDX 2.3), in memory. When the current header's LogGuid is not zero, the
 * log may hold metadata updates (BAT, metadata, even payload pages) that never reached their
 * place in the file; the file is only consistent once they are applied. We never write the
 * image: `replayLog` returns an `ImageFile` that reads the file with the replayed pages laid
 * over it, and every later structure (region table, metadata, BAT, payload) is read through it.
 *
 * How the active sequence is found: every 4 KiB position of the circular log is tried as a log
 * entry ("loge", CRC-32C over the entry, matching LogGuid, descriptors "desc"/"zero" and data
 * sectors "data" carrying the entry's sequence number). Valid entries chain when the next one
 * starts right after (modulo the log length) with sequence number + 1. A chain's last entry
 * (the head) names its tail; the chain is a valid sequence if walking from the tail reaches the
 * head. The valid sequence whose head has the highest sequence number is replayed, tail to head,
 * descriptor by descriptor. A log with no valid sequence is CORRUPT_IMAGE (field 'log'), as
 * the spec demands.
 *
 * Bounds: the log must lie inside the file and be at most 256 MiB (else UNSUPPORTED); entries
 * are parsed once per position; chain walks are capped; a zero descriptor covers at most 1 GiB
 * and the overlay at most 2^21 pages. The file must be at least the head's FlushedFileOffset
 * long (else the data the log relies on was lost: CORRUPT_IMAGE 'log.flushedFileOffset'); the
 * replayed file reads as max(file size, LastFileOffset) bytes, zeroes past the real end.
 * Errors: CORRUPT_IMAGE naming the field ('log...'), UNSUPPORTED for oversized logs.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { crc32cWithZeroedField } from '../../checksum/crc32c.ts';
import { guidEqual } from './guid.ts';
import { corrupt, MiB, type VhdxHeader } from './headers.ts';

const SECTOR = 4096;
const MAX_LOG_BYTES = 256 * MiB;
const MAX_ZERO_BYTES = 1024 * MiB;
const MAX_OVERLAY_PAGES = 1 << 21;

type Descriptor =
  | { readonly kind: 'data'; readonly fileOffset: number; readonly page: Uint8Array }
  | { readonly kind: 'zero'; readonly fileOffset: number; readonly length: number };

interface LogEntry {
  readonly position: number;
  readonly length: number;
  readonly tail: number;
  readonly sequence: bigint;
  readonly flushedFileOffset: number;
  readonly lastFileOffset: number;
  readonly descriptors: readonly Descriptor[];
}

export interface ReplayResult {
  /** The file as it reads after replay (the input file itself when there was nothing to replay). */
  readonly file: ImageFile;
  /** Entries replayed. */
  readonly entriesReplayed: number;
}

/** Copies `length` bytes of the circular log from `position`, wrapping at the end. */
function circular(log: Uint8Array, position: number, length: number): Uint8Array {
  if (position + length <= log.length) return log.subarray(position, position + length);
  const out = new Uint8Array(length);
  const first = log.length - position;
  out.set(log.subarray(position));
  out.set(log.subarray(0, length - first), first);
  return out;
}

function parseEntry(log: Uint8Array, position: number, logGuid: Uint8Array): LogEntry | undefined {
  const head = circular(log, position, SECTOR);
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (String.fromCharCode(...head.subarray(0, 4)) !== 'loge') return undefined;
  const length = hv.getUint32(8, true);
  const tail = hv.getUint32(12, true);
  const sequence = hv.getBigUint64(16, true);
  const count = hv.getUint32(24, true);
  if (length < SECTOR || length % SECTOR !== 0 || length > log.length) return undefined;
  if (tail % SECTOR !== 0 || tail >= log.length || sequence === 0n) return undefined;
  if (!guidEqual(head.subarray(32, 48), logGuid)) return undefined;
  const descSectors = Math.ceil((64 + 32 * count) / SECTOR);
  if (descSectors * SECTOR > length) return undefined;
  const bytes = circular(log, position, length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) !== crc32cWithZeroedField(bytes, 4)) return undefined;
  const flushed = view.getBigUint64(48, true);
  const last = view.getBigUint64(56, true);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (flushed > limit || last > limit) return undefined;
  const descriptors: Descriptor[] = [];
  let dataSector = descSectors;
  for (let i = 0; i < count; i++) {
    const at = 64 + 32 * i;
    const sig = String.fromCharCode(...bytes.subarray(at, at + 4));
    const fileOffsetBig = view.getBigUint64(at + 16, true);
    if (view.getBigUint64(at + 24, true) !== sequence || fileOffsetBig > limit) return undefined;
    const fileOffset = Number(fileOffsetBig);
    if (fileOffset % SECTOR !== 0) return undefined;
    if (sig === 'zero') {
      const zl = view.getBigUint64(at + 8, true);
      if (zl % BigInt(SECTOR) !== 0n || zl > BigInt(MAX_ZERO_BYTES)) return undefined;
      descriptors.push({ kind: 'zero', fileOffset, length: Number(zl) });
    } else if (sig === 'desc') {
      const ds = dataSector++ * SECTOR;
      if (ds + SECTOR > length) return undefined;
      const d = bytes.subarray(ds, ds + SECTOR);
      const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
      if (String.fromCharCode(...d.subarray(0, 4)) !== 'data') return undefined;
      const seq = (BigInt(dv.getUint32(4, true)) << 32n) | BigInt(dv.getUint32(4092, true));
      if (seq !== sequence) return undefined;
      // The 4 KiB written: 8 leading bytes from the descriptor, 4084 from the sector, 4 trailing.
      const page = new Uint8Array(SECTOR);
      page.set(bytes.subarray(at + 8, at + 16), 0);
      page.set(d.subarray(8, 4092), 8);
      page.set(bytes.subarray(at + 4, at + 8), 4092);
      descriptors.push({ kind: 'data', fileOffset, page });
    } else {
      return undefined;
    }
  }
  return { position, length, tail, sequence, flushedFileOffset: Number(flushed), lastFileOffset: Number(last), descriptors };
}

/** The active sequence (tail first), or [] when the log holds none. */
export function findActiveSequence(name: string, log: Uint8Array, logGuid: Uint8Array): LogEntry[] {
  const positions = log.length / SECTOR;
  const entries = new Map<number, LogEntry>();
  for (let p = 0; p < positions; p++) {
    const e = parseEntry(log, p * SECTOR, logGuid);
    if (e) entries.set(p * SECTOR, e);
  }
  const next = (e: LogEntry): LogEntry | undefined => {
    const n = entries.get((e.position + e.length) % log.length);
    return n && n.sequence === e.sequence + 1n ? n : undefined;
  };
  const heads = [...entries.values()].filter((e) => next(e) === undefined).sort((a, b) => (a.sequence < b.sequence ? 1 : a.sequence > b.sequence ? -1 : 0));
  let budget = 16 * positions + 4096;
  for (const head of heads) {
    const chain: LogEntry[] = [];
    let e = entries.get(head.tail);
    while (e && e !== head && chain.length < positions) {
      if (--budget < 0) throw corrupt(name, 'log', 'too many candidate log sequences');
      chain.push(e);
      e = next(e);
    }
    if (e === head) {
      chain.push(head);
      return chain;
    }
  }
  return [];
}

/** Replays the log of `header` (non-zero LogGuid) over `file` in memory. */
export async function replayLog(name: string, file: ImageFile, header: VhdxHeader): Promise<ReplayResult> {
  const { logOffset, logLength } = header;
  if (logLength === 0 || logLength % MiB !== 0) throw corrupt(name, 'logLength', `${logLength} is not a positive multiple of 1 MiB`);
  if (logOffset < MiB || logOffset % MiB !== 0) throw corrupt(name, 'logOffset', `${logOffset} is not a multiple of 1 MiB at or past 1 MiB`);
  if (logLength > MAX_LOG_BYTES) throw new DiskError('UNSUPPORTED', `${name}: VHDX log of ${logLength} bytes is larger than the ${MAX_LOG_BYTES} this reader replays`);
  const baseSize = file.size();
  if (logOffset + logLength > baseSize) throw corrupt(name, 'logOffset', `log at ${logOffset} (+${logLength}) lies outside the ${baseSize}-byte file`);
  const log = new Uint8Array(logLength);
  await file.read(logOffset, log, 'log');
  const sequence = findActiveSequence(name, log, header.logGuid);
  // MS-VHDX 2.3.3: a non-empty log (LogGuid set) without a valid sequence is a corrupt file.
  if (sequence.length === 0) throw corrupt(name, 'log', 'the header has a LogGuid but the log holds no valid, complete log sequence');
  const head = sequence[sequence.length - 1]!;
  if (baseSize < head.flushedFileOffset) {
    throw corrupt(name, 'log.flushedFileOffset', `the file (${baseSize} bytes) is shorter than the log's flushed file offset ${head.flushedFileOffset}: data is missing`);
  }
  const pages = new Map<number, Uint8Array>();
  const zeroPage = new Uint8Array(SECTOR);
  let size = Math.max(baseSize, head.lastFileOffset);
  for (const entry of sequence) {
    for (const d of entry.descriptors) {
      const end = d.fileOffset + (d.kind === 'data' ? SECTOR : d.length);
      if (!Number.isSafeInteger(end)) throw corrupt(name, 'log.descriptor', 'file offset too large');
      size = Math.max(size, end);
      if (d.kind === 'data') pages.set(d.fileOffset / SECTOR, d.page);
      else for (let p = d.fileOffset / SECTOR; p < end / SECTOR; p++) pages.set(p, zeroPage);
      if (pages.size > MAX_OVERLAY_PAGES) throw new DiskError('UNSUPPORTED', `${name}: VHDX log rewrites more than ${MAX_OVERLAY_PAGES} pages`);
    }
  }
  return { file: overlayFile(file, baseSize, size, pages), entriesReplayed: sequence.length };
}

/** `file` with 4 KiB pages replaced, `size` bytes long (zeroes between the real end and `size`). */
function overlayFile(file: ImageFile, baseSize: number, size: number, pages: ReadonlyMap<number, Uint8Array>): ImageFile {
  return {
    name: file.name,
    writable: false,
    size: () => size,
    async read(offset, into, field = 'data') {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > size) {
        throw new DiskError('CORRUPT_IMAGE', `${file.name}: ${field} at offset ${offset} (+${into.length} bytes) lies outside the ${size}-byte file`, { field });
      }
      const end = offset + into.length;
      const realEnd = Math.min(end, baseSize);
      if (realEnd > offset) await file.read(offset, into.subarray(0, realEnd - offset), field);
      into.fill(0, Math.max(0, realEnd - offset));
      for (let p = Math.floor(offset / SECTOR); p * SECTOR < end; p++) {
        const page = pages.get(p);
        if (!page) continue;
        const from = Math.max(offset, p * SECTOR);
        const to = Math.min(end, (p + 1) * SECTOR);
        into.set(page.subarray(from - p * SECTOR, to - p * SECTOR), from - offset);
      }
    },
    close: () => file.close(),
  };
}
