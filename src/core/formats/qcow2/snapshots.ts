/**
 * The qcow2 internal snapshot table (qcow2.txt, "Snapshots"): a contiguous run of variable-length
 * entries at `snapshots_offset`. Each snapshot is an L1 table of its own; opening one reads the
 * disk as it was when the snapshot was taken.
 *
 * Hostile input is bounded: at most 65536 entries, extra data at most 1 KiB, id and name at most
 * 64 KiB each (their 16-bit lengths), and every entry must lie inside the file.
 * Errors: `CORRUPT_IMAGE` naming the field.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { MAX_L1_BYTES, u64, type Qcow2Header } from './header.ts';

export interface Qcow2Snapshot {
  readonly id: string;
  readonly name: string;
  readonly l1TableOffset: number;
  readonly l1Size: number;
  /** Seconds and nanoseconds since the epoch. */
  readonly dateSeconds: number;
  readonly dateNanoseconds: number;
  readonly vmClockNanoseconds: number;
  readonly vmStateSize: number;
  /** The snapshot's virtual size; the header's size when the entry predates the field. */
  readonly virtualSize: number;
  /** Byte offset of this entry in the file, and its padded length (the check walks them). */
  readonly entryOffset: number;
  readonly entryLength: number;
}

const MAX_EXTRA = 1024;

export async function readSnapshots(file: ImageFile, header: Qcow2Header): Promise<Qcow2Snapshot[]> {
  const out: Qcow2Snapshot[] = [];
  const fileSize = file.size();
  const bad = (field: string, why: string): never => {
    throw new DiskError('CORRUPT_IMAGE', `${file.name}: qcow2 snapshot ${out.length} ${field} ${why}`, { field: `snapshot.${field}` });
  };
  let at = header.snapshotsOffset;
  const fixed = new Uint8Array(40);
  for (let i = 0; i < header.nbSnapshots; i++) {
    if (at + 40 > fileSize) bad('entry', `at ${at} lies past the end of the file`);
    await file.read(at, fixed, 'snapshot table');
    const v = new DataView(fixed.buffer);
    const l1TableOffset = u64(v, 0);
    const l1Size = v.getUint32(8);
    const idLen = v.getUint16(12);
    const nameLen = v.getUint16(14);
    const extraLen = v.getUint32(36);
    if (extraLen > MAX_EXTRA) bad('extra_data_size', `${extraLen} exceeds ${MAX_EXTRA}`);
    const varLen = extraLen + idLen + nameLen;
    if (at + 40 + varLen > fileSize) bad('entry', 'runs past the end of the file');
    const rest = new Uint8Array(varLen);
    await file.read(at + 40, rest, 'snapshot table');
    const rv = new DataView(rest.buffer);
    let vmStateSize = v.getUint32(32);
    let virtualSize = header.size;
    if (extraLen >= 8) vmStateSize = u64(rv, 0);
    if (extraLen >= 16) virtualSize = u64(rv, 8);
    if (!Number.isSafeInteger(virtualSize)) bad('disk_size', 'is past 2^53 bytes');
    if (l1Size * 8 > MAX_L1_BYTES) bad('l1_size', `${l1Size} is too large`);
    if (l1Size > 0 && (l1TableOffset % header.clusterSize !== 0 || l1TableOffset + l1Size * 8 > fileSize)) {
      bad('l1_table_offset', `${l1TableOffset} is unaligned or past the end of the file`);
    }
    const dec = new TextDecoder();
    const entryLength = Math.ceil((40 + varLen) / 8) * 8;
    out.push({
      id: dec.decode(rest.subarray(extraLen, extraLen + idLen)),
      name: dec.decode(rest.subarray(extraLen + idLen, varLen)),
      l1TableOffset,
      l1Size,
      dateSeconds: v.getUint32(16),
      dateNanoseconds: v.getUint32(20),
      vmClockNanoseconds: Number(v.getBigUint64(24)),
      vmStateSize,
      virtualSize,
      entryOffset: at,
      entryLength,
    });
    at += entryLength;
  }
  return out;
}

/** QEMU's lookup rule: an id match first, then a name match. */
export function findSnapshot(snapshots: readonly Qcow2Snapshot[], key: string): Qcow2Snapshot | undefined {
  return snapshots.find((s) => s.id === key) ?? snapshots.find((s) => s.name === key);
}
