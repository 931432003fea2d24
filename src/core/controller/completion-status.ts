/**
 * Completion status of the emulated controller: what a failed command's error becomes in the CQE's
 * 15-bit status field, and how a status field reads back as words for a person.
 *
 * A DiskError maps through status.ts (`nvmeStatusOf`); anything else a disk throws is a bug in
 * that disk and completes as Internal Error. Do Not Retry is clear only for failures a retry
 * might cure (I/O, network, abort, not ready, capacity) and set for the rest (bad LBA, read-only,
 * bad field or opcode, reservation conflict, medium error, corrupt image).
 */
import { DISK_ERROR_CODES, isDiskError, type DiskErrorCode } from '../disk/errors.ts';
import { nvmeStatusOf } from '../disk/status.ts';
import { statusField } from './layout.ts';

export const STATUS_SUCCESS = 0;
/** Internal Error (generic 0x06): what a non-DiskError failure becomes. */
export const STATUS_INTERNAL_ERROR = statusField(0, 0x06, false);
/** Command Aborted due to SQ Deletion (generic 0x08): commands left in an SQ when the device stops. */
export const STATUS_ABORTED_SQ_DELETION = statusField(0, 0x08, false);

const RETRYABLE: ReadonlySet<DiskErrorCode> = new Set<DiskErrorCode>(['IO', 'NETWORK', 'ABORTED', 'LOCKED', 'QUOTA']);

export function statusOfError(e: unknown): number {
  if (!isDiskError(e)) return STATUS_INTERNAL_ERROR;
  const { sct, sc } = nvmeStatusOf(e.code);
  return statusField(sct, sc, !RETRYABLE.has(e.code));
}

const NAMES = new Map<number, string>([
  [STATUS_SUCCESS, 'Successful Completion'],
  [STATUS_ABORTED_SQ_DELETION & 0x7ff, 'Command Aborted due to SQ Deletion'],
]);
for (const code of DISK_ERROR_CODES) {
  const s = nvmeStatusOf(code);
  NAMES.set(statusField(s.sct, s.sc, false), s.name);
}

/** "LBA Out of Range (SCT 0x0, SC 0x80)" for a status field; DNR does not change the name. */
export function describeStatus(status: number): string {
  const key = status & 0x7ff;
  const sct = (key >>> 8) & 0x7;
  const sc = key & 0xff;
  const name = NAMES.get(key) ?? 'Unknown Status';
  return `${name} (SCT 0x${sct.toString(16)}, SC 0x${sc.toString(16).padStart(2, '0')})`;
}
