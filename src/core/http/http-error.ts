/**
 * `HttpSourceError`: how an HTTP range source fails. It is a `DiskError` (code `NETWORK` for
 * everything the server or the network did; `OUT_OF_RANGE` and `ABORTED` for the caller's own
 * misuse or a close) with a machine-readable `reason`, so tests and the UI can tell a changed
 * object from a server that ignores Range without parsing messages.
 *
 * `transient` marks the failures worth one retry (5xx, 408/429, resets, a connection dropped
 * mid-body, a timeout of one attempt); everything else is a property of the server or the object
 * and fails at once.
 */
import { DiskError, type DiskErrorCode } from '../disk/errors.ts';

export type HttpFailure =
  /** The object's ETag/Last-Modified/size differs from the one the source opened: never mix versions. */
  | 'changed'
  /** A 200 with the whole object where a 206 was asked for. */
  | 'ignores-range'
  /** 206 whose Content-Range names other bytes, or is missing or unparseable. */
  | 'wrong-range'
  /** A Content-Encoding other than identity: the bytes are not the object's bytes. */
  | 'encoded'
  /** Fewer bytes than the range (a short Content-Length, or the body ended early). */
  | 'short-body'
  /** More bytes than the range. */
  | 'long-body'
  /** The connection broke while the body was arriving. */
  | 'dropped'
  /** A status other than 206 (and 200) for a range, or other than 2xx for HEAD. */
  | 'status'
  /** The transport failed before a response (refused, reset, DNS, TLS; in a browser possibly CORS). */
  | 'transport'
  /** The overall deadline for a read passed. */
  | 'timeout'
  /** A redirect from https to http. */
  | 'downgrade'
  /** Size or range support could not be learned from HEAD or a ranged GET. */
  | 'probe'
  /** The source was closed while the request was pending. */
  | 'closed'
  /** A read outside the object. */
  | 'range';

export class HttpSourceError extends DiskError {
  readonly reason: HttpFailure;
  readonly url: string;
  readonly status: number | undefined;
  readonly transient: boolean;

  constructor(
    reason: HttpFailure,
    url: string,
    message: string,
    extra: { status?: number; transient?: boolean; cause?: unknown; code?: DiskErrorCode } = {},
  ) {
    super(extra.code ?? 'NETWORK', `${url}: ${message}`, { cause: extra.cause });
    this.name = 'HttpSourceError';
    this.reason = reason;
    this.url = url;
    this.status = extra.status;
    this.transient = extra.transient ?? false;
  }
}

export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** What a browser-facing server must send for the lab to read it by range. */
export const CORS_ADVICE =
  'the server must answer CORS for this page: Access-Control-Allow-Origin, Access-Control-Allow-Headers: Range, If-Range ' +
  '(If-Range makes the request preflighted, so OPTIONS must succeed), and Access-Control-Expose-Headers: Content-Range, Content-Length, ETag';

/** Message for a fetch that failed before any response. */
export function transportMessage(e: unknown, enforcesCors: boolean): string {
  const detail = describeCause(e);
  if (enforcesCors && e instanceof TypeError) {
    return `the request failed (${detail}). In a browser this is either the network or a CORS refusal; if the URL opens in a tab, ${CORS_ADVICE}`;
  }
  return `the request failed (${detail})`;
}

/** Message for a response header that should be there but reads as null. */
export function missingHeaderMessage(header: string, enforcesCors: boolean, what: string): string {
  const base = `${what}: the response has no readable ${header} header`;
  return enforcesCors ? `${base}; a browser hides it unless ${CORS_ADVICE}` : base;
}

/** The error's message and its cause's (Node's fetch puts ECONNRESET etc. in `cause`). */
export function describeCause(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = e.cause instanceof Error ? `: ${(e.cause as Error & { code?: string }).code ?? e.cause.message}` : '';
  return `${e.name}: ${e.message}${inner}`;
}

export function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : undefined;
}
