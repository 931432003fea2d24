/**
 * What a guest would see: each DiskError code as an NVMe completion status and as SCSI sense.
 *
 * The lab shows these next to failed I/Os so a student can connect "the backend threw X" with
 * "the guest got status Y". Values are from the NVMe Base Specification 2.0 (Status Code Type,
 * Status Code) and SPC-5/SBC-4 (status, sense key, ASC/ASCQ).
 */
import type { DiskErrorCode } from './errors.ts';

export interface NvmeStatus {
  /** Status Code Type: 0 generic, 2 media and data integrity errors. */
  readonly sct: number;
  readonly sc: number;
  readonly name: string;
}

export interface ScsiSense {
  /** SCSI status byte: 0x02 CHECK CONDITION, 0x18 RESERVATION CONFLICT. */
  readonly status: number;
  readonly senseKey: number;
  readonly asc: number;
  readonly ascq: number;
  readonly name: string;
}

const NVME: Record<DiskErrorCode, NvmeStatus> = {
  OUT_OF_RANGE: { sct: 0, sc: 0x80, name: 'LBA Out of Range' },
  READ_ONLY: { sct: 1, sc: 0x82, name: 'Attempted Write to Read Only Range' },
  INVALID_INPUT: { sct: 0, sc: 0x02, name: 'Invalid Field in Command' },
  IO: { sct: 0, sc: 0x06, name: 'Internal Error' },
  MEDIUM_ERROR: { sct: 2, sc: 0x81, name: 'Unrecovered Read Error' },
  RESERVATION_CONFLICT: { sct: 0, sc: 0x83, name: 'Reservation Conflict' },
  UNSUPPORTED: { sct: 0, sc: 0x01, name: 'Invalid Command Opcode' },
  ABORTED: { sct: 0, sc: 0x07, name: 'Command Abort Requested' },
  CORRUPT_IMAGE: { sct: 0, sc: 0x06, name: 'Internal Error' },
  NETWORK: { sct: 0, sc: 0x06, name: 'Internal Error' },
  QUOTA: { sct: 0, sc: 0x81, name: 'Capacity Exceeded' },
  LOCKED: { sct: 0, sc: 0x82, name: 'Namespace Not Ready' },
};

const CHECK = 0x02;
const SCSI: Record<DiskErrorCode, ScsiSense> = {
  OUT_OF_RANGE: { status: CHECK, senseKey: 0x5, asc: 0x21, ascq: 0x00, name: 'ILLEGAL REQUEST: LBA out of range' },
  READ_ONLY: { status: CHECK, senseKey: 0x7, asc: 0x27, ascq: 0x00, name: 'DATA PROTECT: write protected' },
  INVALID_INPUT: { status: CHECK, senseKey: 0x5, asc: 0x24, ascq: 0x00, name: 'ILLEGAL REQUEST: invalid field in CDB' },
  IO: { status: CHECK, senseKey: 0x4, asc: 0x44, ascq: 0x00, name: 'HARDWARE ERROR: internal target failure' },
  MEDIUM_ERROR: { status: CHECK, senseKey: 0x3, asc: 0x11, ascq: 0x00, name: 'MEDIUM ERROR: unrecovered read error' },
  RESERVATION_CONFLICT: { status: 0x18, senseKey: 0x0, asc: 0x00, ascq: 0x00, name: 'RESERVATION CONFLICT' },
  UNSUPPORTED: { status: CHECK, senseKey: 0x5, asc: 0x20, ascq: 0x00, name: 'ILLEGAL REQUEST: invalid command operation code' },
  ABORTED: { status: CHECK, senseKey: 0xb, asc: 0x00, ascq: 0x00, name: 'ABORTED COMMAND' },
  CORRUPT_IMAGE: { status: CHECK, senseKey: 0x3, asc: 0x31, ascq: 0x00, name: 'MEDIUM ERROR: medium format corrupted' },
  NETWORK: { status: CHECK, senseKey: 0x4, asc: 0x08, ascq: 0x00, name: 'HARDWARE ERROR: logical unit communication failure' },
  QUOTA: { status: CHECK, senseKey: 0x7, asc: 0x27, ascq: 0x07, name: 'DATA PROTECT: space allocation failed write protect' },
  LOCKED: { status: CHECK, senseKey: 0x2, asc: 0x04, ascq: 0x00, name: 'NOT READY: logical unit not ready' },
};

export function nvmeStatusOf(code: DiskErrorCode): NvmeStatus {
  return NVME[code];
}

export function scsiSenseOf(code: DiskErrorCode): ScsiSense {
  return SCSI[code];
}
