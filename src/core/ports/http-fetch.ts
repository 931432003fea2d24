/**
 * `HttpFetch`: the slice of `fetch` the HTTP RangeSource needs, so core can make range requests
 * without the DOM or Node types. The browser/worker adapter wraps `fetch`, the Node one wraps
 * Node's global `fetch` (src/node/node-http-fetch.ts); tests pass a scripted fake.
 *
 * Promises
 * - `request` starts one request and returns at once; `response` resolves when the status and
 *   headers have arrived. Redirects are followed by the platform; `response.url` is the final URL
 *   (so the caller can refuse an https-to-http downgrade).
 * - `abort()` cancels the exchange at any point: a pending `response` and any pending body read
 *   reject with an error named 'AbortError'. Aborting a finished exchange does nothing.
 * - `timeoutMs`, when given, aborts the exchange after that long, rejecting with an error named
 *   'TimeoutError'. The adapter's timer must not keep a process alive (Node: an unref'd timer).
 * - `body` is null for HEAD and for responses without one. `read()` yields the body's bytes in
 *   pieces; `{ done: true }` ends it. A connection dropped mid-body makes `read()` reject. Each
 *   piece is handed over: the platform keeps no reference to it and never reuses its memory (the
 *   source caches pieces as they are, without copying them into chunk buffers).
 * - Header names are case-insensitive. A header the platform hides (a browser withholding a
 *   response header the server did not list in Access-Control-Expose-Headers) reads as null.
 *
 * Errors: `response` rejects on a transport failure (refused, reset, DNS, TLS, and in a browser a
 * CORS refusal, which is indistinguishable: a TypeError). `enforcesCors` says whether that
 * ambiguity exists, so messages can name the headers a server must send.
 */

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD';
  readonly url: string;
  /** Request headers; a platform may drop ones it forbids (a browser drops Accept-Encoding). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface HttpHeaders {
  get(name: string): string | null;
}

export interface HttpBodyReader {
  read(): Promise<{ readonly done: boolean; readonly value?: Uint8Array | undefined }>;
  /** Stops reading and releases the connection; never rejects. */
  cancel(): Promise<void>;
}

export interface HttpResponse {
  readonly status: number;
  /** The final URL after redirects. */
  readonly url: string;
  readonly headers: HttpHeaders;
  readonly body: HttpBodyReader | null;
}

export interface HttpExchange {
  readonly response: Promise<HttpResponse>;
  abort(): void;
}

export interface HttpFetch {
  /** True in browsers and workers: a failed fetch may be a CORS refusal and headers may be hidden. */
  readonly enforcesCors: boolean;
  request(request: HttpRequest): HttpExchange;
}
