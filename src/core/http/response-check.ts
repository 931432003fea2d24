/**
 * Validation of HTTP responses to range requests: the rules that keep wrong bytes out.
 *
 * Promises
 * - A range is accepted only from a 206 whose Content-Range names exactly the bytes asked for,
 *   whose total equals the size the source opened with, whose body is not encoded, and whose
 *   validators (ETag, else Last-Modified) equal the ones the source opened with.
 * - A 200 is never accepted for a range: it is a `changed` object when its validators differ (an
 *   If-Range miss answers 200 with the new object) and `ignores-range` otherwise. A 412 is
 *   `changed`; a 416 whose total differs from the size is `changed`.
 * Errors: each rule throws an `HttpSourceError` naming its `reason`; 5xx/408/429 are `transient`.
 */
import type { HttpHeaders, HttpResponse } from '../ports/http-fetch.ts';
import { HttpSourceError, isTransientStatus, missingHeaderMessage } from './http-error.ts';

/** What identifies one version of the object. */
export interface ObjectValidator {
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
}

export function validatorOf(headers: HttpHeaders): ObjectValidator {
  return { etag: headers.get('etag') ?? undefined, lastModified: headers.get('last-modified') ?? undefined };
}

/** The RangeSource identity: the ETag, else the Last-Modified stamp, else undefined (no validation possible). */
export function identityOf(v: ObjectValidator): string | undefined {
  if (v.etag !== undefined) return `etag ${v.etag}`;
  if (v.lastModified !== undefined) return `last-modified ${v.lastModified}`;
  return undefined;
}

/**
 * If-Range makes the server send the new object (a 200) instead of a range of it when it changed.
 * It needs a strong validator: a weak ETag (W/"...") cannot be used, so Last-Modified stands in.
 */
export function conditionalHeaders(v: ObjectValidator): Record<string, string> {
  if (v.etag !== undefined && !v.etag.startsWith('W/')) return { 'If-Range': v.etag };
  if (v.lastModified !== undefined) return { 'If-Range': v.lastModified };
  return {};
}

export type ContentRange =
  | { readonly kind: 'range'; readonly first: number; readonly last: number; readonly total: number | undefined }
  | { readonly kind: 'unsatisfied'; readonly total: number };

/** Parses `bytes first-last/total`, `bytes first-last/*` and `bytes *\/total`; undefined if malformed. */
export function parseContentRange(value: string): ContentRange | undefined {
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|(\*))\/(\d+|\*)\s*$/i.exec(value);
  if (m === null) return undefined;
  const total = m[4] === '*' ? undefined : Number(m[4]);
  if (total !== undefined && !Number.isSafeInteger(total)) return undefined;
  if (m[3] === '*') return total === undefined ? undefined : { kind: 'unsatisfied', total };
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) return undefined;
  if (total !== undefined && last >= total) return undefined;
  return { kind: 'range', first, last, total };
}

/** Throws `changed` when the response carries a validator that differs from the opened object's. */
export function checkSameObject(headers: HttpHeaders, v: ObjectValidator, url: string, status?: number): void {
  const etag = headers.get('etag');
  if (v.etag !== undefined && etag !== null && etag !== v.etag) {
    throw new HttpSourceError('changed', url, `the object changed while open (ETag ${v.etag} became ${etag}); reopen it to read the new version`, { status });
  }
  const lastModified = headers.get('last-modified');
  if (v.etag === undefined && v.lastModified !== undefined && lastModified !== null && lastModified !== v.lastModified) {
    throw new HttpSourceError('changed', url, `the object changed while open (Last-Modified ${v.lastModified} became ${lastModified}); reopen it`, { status });
  }
}

export function checkNotEncoded(headers: HttpHeaders, url: string, status: number): void {
  const encoding = headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
    throw new HttpSourceError('encoded', url, `the server sent the range with Content-Encoding ${encoding}; byte ranges of an encoded body are not the object's bytes (serve it without compression)`, { status });
  }
}

export interface ExpectedRange {
  readonly offset: number;
  readonly length: number;
  /** The object's size as opened; every Content-Range total must equal it. */
  readonly size: number;
  readonly validator: ObjectValidator;
}

/** Checks the status and headers of a response to `GET Range: bytes=offset-(offset+length-1)`. */
export function checkRangeResponse(response: HttpResponse, expected: ExpectedRange, url: string, enforcesCors: boolean): void {
  const { status, headers } = response;
  const what = `range ${expected.offset}+${expected.length}`;
  if (status === 200) {
    checkSameObject(headers, expected.validator, url, status);
    const length = headers.get('content-length');
    if (length !== null && Number(length) !== expected.size) {
      throw new HttpSourceError('changed', url, `the object changed while open (a full response of ${length} bytes, not ${expected.size})`, { status });
    }
    throw new HttpSourceError('ignores-range', url, `the server ignored the Range header for ${what} and sent the whole object (200); it must answer range requests with 206`, { status });
  }
  if (status === 412) throw new HttpSourceError('changed', url, `the object changed while open (412 Precondition Failed for ${what})`, { status });
  if (status === 416) {
    const cr = parseContentRange(headers.get('content-range') ?? '');
    if (cr !== undefined && cr.total !== expected.size) {
      throw new HttpSourceError('changed', url, `the object changed while open (now ${cr.total} bytes, not ${expected.size})`, { status });
    }
    throw new HttpSourceError('status', url, `the server refused ${what} of the ${expected.size}-byte object (416 Range Not Satisfiable)`, { status });
  }
  if (status !== 206) {
    throw new HttpSourceError('status', url, `HTTP ${status} for ${what}`, { status, transient: isTransientStatus(status) });
  }
  checkNotEncoded(headers, url, status);
  checkSameObject(headers, expected.validator, url, status);
  const header = headers.get('content-range');
  if (header === null) throw new HttpSourceError('wrong-range', url, missingHeaderMessage('Content-Range', enforcesCors, what), { status });
  const cr = parseContentRange(header);
  if (cr === undefined || cr.kind !== 'range') throw new HttpSourceError('wrong-range', url, `${what}: unparseable Content-Range '${header}'`, { status });
  if (cr.total !== undefined && cr.total !== expected.size) {
    throw new HttpSourceError('changed', url, `the object changed while open (Content-Range says ${cr.total} bytes, not ${expected.size})`, { status });
  }
  const last = expected.offset + expected.length - 1;
  if (cr.first !== expected.offset || cr.last !== last) {
    throw new HttpSourceError('wrong-range', url, `asked for bytes ${expected.offset}-${last}, the server sent Content-Range '${header}'`, { status });
  }
  const length = headers.get('content-length');
  if (length !== null && length.trim() !== '') {
    const n = Number(length);
    if (n < expected.length) throw new HttpSourceError('short-body', url, `${what}: Content-Length ${length} is shorter than the range`, { status });
    if (n > expected.length) throw new HttpSourceError('long-body', url, `${what}: Content-Length ${length} is longer than the range`, { status });
  }
}
