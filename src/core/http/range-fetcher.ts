/**
 * RangeFetcher: sends the HTTP requests of one source and reads their bodies, with the retry and
 * deadline policy. It holds no cache; the source above it decides what to fetch.
 *
 * Promises
 * - `fetchRange` resolves with exactly the object's bytes from `offset`, split into chunks of the
 *   given lengths (each chunk the body's pieces, cut at chunk boundaries, not copied), or rejects;
 *   never with fewer or more bytes. `onChunk` sees each chunk as soon as its last byte arrived, so
 *   a reader can use the start of a large request while the rest is still coming: the response's
 *   headers were validated first, so a complete chunk is the opened object's bytes even if the
 *   connection breaks later (a retry then delivers the chunks again).
 * - Every response goes through response-check.ts; an https URL redirected to http is refused.
 * - Retry: a transient failure (5xx/408/429, a transport error, a connection dropped mid-body, the
 *   timeout of one attempt) is retried once after `retryDelayMs`, and only if the deadline leaves
 *   time; every attempt's timeout is what is left of `deadlineMs`. Nothing retries silently beyond that.
 * - `close` aborts every exchange in flight; their callers get `closed` (ABORTED).
 * Timing (latency, backoff, deadline) uses the injected clock.
 */
import type { Clock } from '../ports/clock.ts';
import type { HttpExchange, HttpFetch, HttpRequest, HttpResponse } from '../ports/http-fetch.ts';
import { errorName, HttpSourceError, transportMessage, describeCause } from './http-error.ts';
import type { HttpSourceStats } from './http-stats.ts';
import { chunkOf, type Chunk } from './chunk-cache.ts';
import { checkRangeResponse, conditionalHeaders, type ObjectValidator } from './response-check.ts';

export interface FetcherConfig {
  readonly fetch: HttpFetch;
  readonly clock: Clock;
  readonly url: string;
  readonly deadlineMs: number;
  readonly retryDelayMs: number;
  readonly stats: HttpSourceStats;
}

/** One request's outcome before validation: the response plus a way to finish it. */
export interface SentRequest {
  readonly response: HttpResponse;
  readonly startNs: number;
  /** Records the request as ended (latency, in-flight) exactly once. */
  done(ok: boolean): void;
}

export class RangeFetcher {
  readonly config: FetcherConfig;
  readonly #exchanges = new Set<HttpExchange>();
  #closed = false;
  /** Set once the object is known (after the probe). */
  validator: ObjectValidator = { etag: undefined, lastModified: undefined };
  size = 0;

  constructor(config: FetcherConfig) {
    this.config = config;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    for (const exchange of this.#exchanges) exchange.abort();
    this.#exchanges.clear();
  }

  closedError(): HttpSourceError {
    return new HttpSourceError('closed', this.config.url, 'the source was closed', { code: 'ABORTED' });
  }

  /** Runs `attempt` once, and once more after a backoff if it failed transiently and the deadline allows. */
  async withRetry<T>(attempt: (timeoutMs: number) => Promise<T>): Promise<T> {
    const { clock, deadlineMs, retryDelayMs, stats, url } = this.config;
    const start = clock.nowNs();
    const remaining = () => deadlineMs - (clock.nowNs() - start) / 1e6;
    for (let tries = 1; ; tries++) {
      if (this.#closed) throw this.closedError();
      try {
        return await attempt(Math.max(1, Math.ceil(remaining())));
      } catch (e) {
        const transient = e instanceof HttpSourceError && e.transient;
        if (!transient || this.#closed) throw this.#closed ? this.closedError() : e;
        if (tries >= 2 || remaining() <= retryDelayMs) {
          if (e.reason === 'timeout' || remaining() <= 0) {
            throw new HttpSourceError('timeout', url, `no answer within the ${deadlineMs} ms deadline (${tries} attempt(s)); last: ${e.message}`, { cause: e, status: e.status });
          }
          throw new HttpSourceError(e.reason, url, `${e.message} (failed again after ${tries} attempts)`, { cause: e, status: e.status });
        }
        stats.retries++;
        await clock.sleep(retryDelayMs * 1e6);
      }
    }
  }

  /** Sends one request and waits for its headers; refuses a downgrade. */
  async send(request: Omit<HttpRequest, 'url'>): Promise<SentRequest> {
    const { fetch, clock, url, stats } = this.config;
    if (this.#closed) throw this.closedError();
    const exchange = fetch.request({ ...request, url });
    this.#exchanges.add(exchange);
    const startNs = clock.nowNs();
    stats.requestStarted();
    let ended = false;
    const done = (ok: boolean) => {
      if (ended) return;
      ended = true;
      this.#exchanges.delete(exchange);
      stats.requestEnded(clock.nowNs() - startNs, ok);
    };
    let response: HttpResponse;
    try {
      response = await exchange.response;
    } catch (e) {
      done(false);
      throw this.#transportError(e);
    }
    if (url.toLowerCase().startsWith('https:') && response.url.toLowerCase().startsWith('http:')) {
      exchange.abort();
      done(false);
      throw new HttpSourceError('downgrade', url, `refusing a redirect from https to ${response.url}: the bytes would travel unprotected`);
    }
    return { response, startNs, done };
  }

  #transportError(e: unknown): HttpSourceError {
    const { url, fetch } = this.config;
    if (this.#closed || errorName(e) === 'AbortError') return this.closedError();
    if (errorName(e) === 'TimeoutError') return new HttpSourceError('timeout', url, `timed out (${describeCause(e)})`, { cause: e, transient: true });
    return new HttpSourceError('transport', url, transportMessage(e, fetch.enforcesCors), { cause: e, transient: true });
  }

  /** The object's bytes from `offset`, as chunks of `lengths` bytes each. */
  async fetchRange(offset: number, lengths: readonly number[], onChunk?: (index: number, chunk: Chunk) => void): Promise<Chunk[]> {
    const length = lengths.reduce((n, b) => n + b, 0);
    const headers = {
      Range: `bytes=${offset}-${offset + length - 1}`,
      'Accept-Encoding': 'identity',
      ...conditionalHeaders(this.validator),
    };
    return this.withRetry(async (timeoutMs) => {
      const sent = await this.send({ method: 'GET', headers, timeoutMs });
      try {
        checkRangeResponse(sent.response, { offset, length, size: this.size, validator: this.validator }, this.config.url, this.config.fetch.enforcesCors);
        const chunks = await this.readBody(sent.response, lengths, `range ${offset}+${length}`, onChunk);
        sent.done(true);
        return chunks;
      } catch (e) {
        await sent.response.body?.cancel();
        sent.done(false);
        throw e;
      }
    });
  }

  /** Reads a body that must be exactly as long as `lengths` together, cut into chunks of those lengths. */
  async readBody(response: HttpResponse, lengths: readonly number[], what: string, onChunk?: (index: number, chunk: Chunk) => void): Promise<Chunk[]> {
    const { url, stats } = this.config;
    const expected = lengths.reduce((n, b) => n + b, 0);
    const chunks: Uint8Array[][] = lengths.map(() => []);
    const body = response.body;
    if (body === null) {
      if (expected === 0) return chunks.map(chunkOf);
      throw new HttpSourceError('short-body', url, `${what}: the response has no body`, { status: response.status });
    }
    let buffer = 0;
    let at = 0;
    let received = 0;
    for (;;) {
      let piece: { readonly done: boolean; readonly value?: Uint8Array | undefined };
      try {
        piece = await body.read();
      } catch (e) {
        const error = this.#transportError(e);
        if (error.reason === 'transport') {
          throw new HttpSourceError('dropped', url, `${what}: the connection broke after ${received} of ${expected} bytes (${describeCause(e)})`, { cause: e, transient: true, status: response.status });
        }
        throw error;
      }
      if (piece.done) break;
      const value = piece.value;
      if (value === undefined || value.length === 0) continue;
      if (received + value.length > expected) {
        throw new HttpSourceError('long-body', url, `${what}: the body is longer than the ${expected}-byte range`, { status: response.status });
      }
      received += value.length;
      stats.bytesFetched += value.length;
      // Cut the piece at chunk boundaries; the views share its memory.
      let from = 0;
      while (from < value.length) {
        while (at === lengths[buffer]) {
          buffer++;
          at = 0;
        }
        const n = Math.min(lengths[buffer]! - at, value.length - from);
        chunks[buffer]!.push(n === value.length ? value : value.subarray(from, from + n));
        from += n;
        at += n;
        if (at === lengths[buffer]) onChunk?.(buffer, chunkOf(chunks[buffer]!));
      }
    }
    if (received < expected) {
      throw new HttpSourceError('short-body', url, `${what}: the body ended after ${received} of ${expected} bytes`, { status: response.status });
    }
    return chunks.map(chunkOf);
  }
}
