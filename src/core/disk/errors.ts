/**
 * Errors of the disk engine.
 *
 * Promise: every failed disk operation rejects with a `DiskError` whose `code` says what kind of
 * failure it was, so callers (the controller, the shell, the CLI) can act on it without parsing
 * messages. The original error, if any, rides along as `cause`. Nothing is retried silently.
 *
 * Problems found while *building* a disk or stack (bad parameters, incompatible layers) are
 * `DiskConfigError`s instead: they carry structured fields naming what was wrong, because they are
 * shown to a person configuring a stack, not to a guest issuing I/O.
 */

export const DISK_ERROR_CODES = [
  'OUT_OF_RANGE',
  'READ_ONLY',
  'INVALID_INPUT',
  'IO',
  'MEDIUM_ERROR',
  'RESERVATION_CONFLICT',
  'UNSUPPORTED',
  'ABORTED',
  'CORRUPT_IMAGE',
  'NETWORK',
  'QUOTA',
  'LOCKED',
] as const;

export type DiskErrorCode = (typeof DISK_ERROR_CODES)[number];

export interface DiskErrorDetails {
  /** First sector the failure concerns, when there is one (a medium error's LBA, say). */
  readonly lba?: number;
  /** For CORRUPT_IMAGE: the on-disk field that failed validation. */
  readonly field?: string;
  readonly cause?: unknown;
}

export class DiskError extends Error {
  readonly code: DiskErrorCode;
  readonly lba: number | undefined;
  readonly field: string | undefined;

  constructor(code: DiskErrorCode, message: string, details: DiskErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'DiskError';
    this.code = code;
    this.lba = details.lba;
    this.field = details.field;
  }
}

export function isDiskError(e: unknown, code?: DiskErrorCode): e is DiskError {
  return e instanceof DiskError && (code === undefined || e.code === code);
}

/** Wraps anything thrown by a port (file system, fetch) as an IO error, keeping DiskErrors as they are. */
export function asDiskError(e: unknown, context: string): DiskError {
  if (e instanceof DiskError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new DiskError('IO', `${context}: ${detail}`, { cause: e });
}

export type DiskConfigProblem =
  | 'INVALID_PARAMETER'
  | 'NO_LAYERS'
  | 'SECTOR_SIZE_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'USELESS_WRITE_THROUGH'
  | 'READ_ONLY_IN_WRITE_PATH'
  | 'UNSUPPORTED_FORMAT';

/** A disk or stack could not be built as described. `field` names the parameter at fault. */
export class DiskConfigError extends Error {
  readonly problem: DiskConfigProblem;
  readonly field: string;
  readonly value: unknown;
  /** For stack problems: index of the layer at fault, top = 0. */
  readonly layerIndex: number | undefined;

  constructor(
    problem: DiskConfigProblem,
    field: string,
    message: string,
    extra: { value?: unknown; layerIndex?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'DiskConfigError';
    this.problem = problem;
    this.field = field;
    this.value = extra.value;
    this.layerIndex = extra.layerIndex;
  }
}
