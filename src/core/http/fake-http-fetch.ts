/**
 * FakeHttpFetch: an in-memory `HttpFetch` serving one object correctly by range (206, ETag,
 * If-Range), recording every request, with hooks to misbehave and a gate to hold responses back,
 * so the source's policies (coalescing, de-duplication, limits, readahead, retry) can be tested
 * deterministically and without sockets. For tests; it follows the port's contract, including
 * 'AbortError' on abort.
 */
import type { HttpExchange, HttpFetch, HttpRequest, HttpResponse } from '../ports/http-fetch.ts';

export interface FakeReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Reject the body read after this many bytes (a dropped connection). */
  readonly dropAfter?: number;
  /** The final URL after redirects; default the request's. */
  readonly url?: string;
}

export class FakeHttpFetch implements HttpFetch {
  readonly enforcesCors: boolean;
  readonly requests: HttpRequest[] = [];
  content: Uint8Array;
  etag: string | undefined = '"v1"';
  lastModified: string | undefined = 'Tue, 15 Nov 1994 12:45:26 GMT';
  /** Answers instead of the correct server when it returns a reply (or throws: a transport error). */
  override: ((request: HttpRequest, index: number) => FakeReply | undefined) | undefined;
  /** While set, responses wait for `release()`. */
  held = false;
  #waiting: Array<() => void> = [];
  inFlight = 0;
  peakInFlight = 0;

  constructor(content: Uint8Array, options: { enforcesCors?: boolean } = {}) {
    this.content = content;
    this.enforcesCors = options.enforcesCors ?? false;
  }

  /** Lets every held response proceed. */
  release(): void {
    this.held = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    waiting.forEach((go) => go());
  }

  get gets(): HttpRequest[] {
    return this.requests.filter((r) => r.method === 'GET');
  }

  request(request: HttpRequest): HttpExchange {
    const index = this.requests.push(request) - 1;
    let aborted = false;
    let abortHook: (() => void) | undefined;
    const abortError = () => Object.assign(new Error('aborted'), { name: 'AbortError' });
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const response = (async (): Promise<HttpResponse> => {
      await Promise.resolve();
      if (this.held && !aborted) {
        await new Promise<void>((resolve, reject) => {
          this.#waiting.push(resolve);
          abortHook = () => reject(abortError());
        });
      }
      if (aborted) throw abortError();
      const reply = this.override?.(request, index) ?? this.#correct(request);
      const headers = new Map(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const body = reply.body;
      let delivered = false;
      const done = () => {
        if (!delivered) this.inFlight--;
        delivered = true;
      };
      return {
        status: reply.status,
        url: reply.url ?? request.url,
        headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
        body:
          body === undefined || request.method === 'HEAD'
            ? (done(), null)
            : {
                read: async () => {
                  if (aborted) throw abortError();
                  if (delivered) {
                    if (reply.dropAfter !== undefined) throw Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
                    return { done: true };
                  }
                  done();
                  return { done: false, value: reply.dropAfter === undefined ? body : body.subarray(0, reply.dropAfter) };
                },
                cancel: async () => done(),
              },
      };
    })();
    return {
      response,
      abort: () => {
        aborted = true;
        abortHook?.();
      },
    };
  }

  #correct(request: HttpRequest): FakeReply {
    const size = this.content.length;
    const validators: Record<string, string> = {};
    if (this.etag !== undefined) validators['ETag'] = this.etag;
    if (this.lastModified !== undefined) validators['Last-Modified'] = this.lastModified;
    if (request.method === 'HEAD') return { status: 200, headers: { ...validators, 'Content-Length': String(size), 'Accept-Ranges': 'bytes' } };
    const ifRange = request.headers['If-Range'];
    const m = /^bytes=(\d+)-(\d+)$/.exec(request.headers['Range'] ?? '');
    if (m === null || (ifRange !== undefined && ifRange !== this.etag && ifRange !== this.lastModified)) {
      return { status: 200, headers: { ...validators, 'Content-Length': String(size) }, body: this.content.slice() };
    }
    const first = Number(m[1]);
    const last = Math.min(Number(m[2]), size - 1);
    if (first >= size) return { status: 416, headers: { 'Content-Range': `bytes */${size}` } };
    const body = this.content.slice(first, last + 1);
    return { status: 206, headers: { ...validators, 'Content-Range': `bytes ${first}-${last}/${size}`, 'Content-Length': String(body.length) }, body };
  }
}
