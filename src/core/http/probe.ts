/**
 * Learning an HTTP object's size and identity before any read.
 *
 * Promises
 * - First a HEAD: a 2xx with a Content-Length gives the size, ETag/Last-Modified the identity;
 *   `Accept-Ranges: none` is refused. A HEAD that is refused (405, 403 from a signed URL made for
 *   GET, 501, ...) or whose Content-Length is unreadable falls back to a ranged GET of the first
 *   chunk, whose 206 Content-Range total is the size and whose body is kept as the first chunk.
 * - 404, 410 and 401 end the probe at once: a GET would say the same.
 * - Transient failures get the fetcher's one retry.
 * Errors: HttpSourceError with reason `probe`, `status`, `ignores-range`, `encoded`, `downgrade`,
 * `transport`, `timeout`; messages name the CORS headers when the platform enforces CORS.
 */
import { HttpSourceError, isTransientStatus, missingHeaderMessage } from './http-error.ts';
import type { RangeFetcher } from './range-fetcher.ts';
import type { Chunk } from './chunk-cache.ts';
import { checkNotEncoded, parseContentRange, validatorOf, type ObjectValidator } from './response-check.ts';

export interface ProbeResult {
  readonly size: number;
  readonly validator: ObjectValidator;
  /** The first bytes of the object when the probe had to GET them (offset 0). */
  readonly head: Chunk | undefined;
}

const FINAL_STATUSES = new Set([401, 404, 410]);

export async function probeObject(fetcher: RangeFetcher, firstChunkBytes: number): Promise<ProbeResult> {
  const url = fetcher.config.url;
  const enforcesCors = fetcher.config.fetch.enforcesCors;
  const viaHead = await fetcher.withRetry(async (timeoutMs) => {
    const sent = await fetcher.send({ method: 'HEAD', headers: { 'Accept-Encoding': 'identity' }, timeoutMs });
    await sent.response.body?.cancel();
    const { status, headers } = sent.response;
    sent.done(!isTransientStatus(status) && !FINAL_STATUSES.has(status));
    if (isTransientStatus(status)) throw new HttpSourceError('status', url, `HTTP ${status} for HEAD`, { status, transient: true });
    if (FINAL_STATUSES.has(status)) throw new HttpSourceError('status', url, `HTTP ${status} (${status === 401 ? 'authentication required' : 'no such object'})`, { status });
    if (status < 200 || status >= 300) return undefined;
    if ((headers.get('accept-ranges') ?? '').trim().toLowerCase() === 'none') {
      throw new HttpSourceError('probe', url, 'the server says Accept-Ranges: none; the lab needs range requests to read an image in place', { status });
    }
    const length = headers.get('content-length');
    const size = length === null ? NaN : Number(length);
    if (!Number.isSafeInteger(size) || size < 0 || headers.get('content-encoding') !== null) return undefined;
    return { size, validator: validatorOf(headers), head: undefined };
  });
  return viaHead ?? probeWithGet(fetcher, firstChunkBytes, enforcesCors);
}

async function probeWithGet(fetcher: RangeFetcher, firstChunkBytes: number, enforcesCors: boolean): Promise<ProbeResult> {
  const url = fetcher.config.url;
  return fetcher.withRetry(async (timeoutMs) => {
    const headers = { Range: `bytes=0-${firstChunkBytes - 1}`, 'Accept-Encoding': 'identity' };
    const sent = await fetcher.send({ method: 'GET', headers, timeoutMs });
    const { response } = sent;
    const { status } = response;
    try {
      const cr = parseContentRange(response.headers.get('content-range') ?? '');
      if (status === 416 && cr?.kind === 'unsatisfied' && cr.total === 0) {
        sent.done(true);
        await response.body?.cancel();
        return { size: 0, validator: validatorOf(response.headers), head: undefined };
      }
      if (status === 200) throw new HttpSourceError('ignores-range', url, 'the server ignores Range requests (200 to a ranged GET); the lab needs 206 Partial Content', { status });
      if (status !== 206) throw new HttpSourceError('status', url, `HTTP ${status} for the first range`, { status, transient: isTransientStatus(status) });
      checkNotEncoded(response.headers, url, status);
      if (cr === undefined) {
        const raw = response.headers.get('content-range');
        throw new HttpSourceError('probe', url, raw === null ? missingHeaderMessage('Content-Range', enforcesCors, 'learning the size') : `unparseable Content-Range '${raw}'`, { status });
      }
      if (cr.kind !== 'range' || cr.total === undefined || cr.first !== 0 || cr.last !== Math.min(firstChunkBytes, cr.total) - 1) {
        throw new HttpSourceError('wrong-range', url, `asked for bytes 0-${firstChunkBytes - 1}, got Content-Range '${response.headers.get('content-range')}'`, { status });
      }
      const [head] = await fetcher.readBody(response, [cr.last + 1], 'the first range');
      sent.done(true);
      return { size: cr.total, validator: validatorOf(response.headers), head };
    } catch (e) {
      await response.body?.cancel();
      sent.done(false);
      throw e;
    }
  });
}
