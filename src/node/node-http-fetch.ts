/**
 * The `HttpFetch` port (src/core/ports/http-fetch.ts) over Node's global `fetch` (undici).
 *
 * Node enforces no CORS, so `enforcesCors` is false. Redirects are followed (`redirect: 'follow'`)
 * and the final URL reported. A request's `timeoutMs` becomes `AbortSignal.timeout`, whose timer
 * does not keep the process alive; it and `abort()` reject pending work with 'TimeoutError' and
 * 'AbortError' as the port requires. Errors are Node's own (a TypeError 'fetch failed' whose
 * `cause` carries ECONNREFUSED, ECONNRESET ...); the core classifies them.
 */
import type { HttpBodyReader, HttpExchange, HttpFetch, HttpRequest, HttpResponse } from '../core/ports/http-fetch.ts';

export const nodeHttpFetch: HttpFetch = {
  enforcesCors: false,
  request(request: HttpRequest): HttpExchange {
    const controller = new AbortController();
    const signal = request.timeoutMs === undefined ? controller.signal : AbortSignal.any([controller.signal, AbortSignal.timeout(Math.max(1, Math.ceil(request.timeoutMs)))]);
    const response = (async (): Promise<HttpResponse> => {
      const r = await fetch(request.url, { method: request.method, headers: request.headers, redirect: 'follow', signal });
      const reader = r.body?.getReader();
      const body: HttpBodyReader | null =
        reader === undefined
          ? null
          : {
              read: async () => {
                try {
                  return await reader.read();
                } catch (e) {
                  // An abort surfaces as the signal's reason (a DOMException named AbortError or TimeoutError).
                  throw signal.aborted ? (signal.reason ?? e) : e;
                }
              },
              cancel: () => reader.cancel().catch(() => undefined),
            };
      return { status: r.status, url: r.url, headers: r.headers, body };
    })();
    return {
      response: response.catch((e: unknown) => {
        throw signal.aborted ? (signal.reason ?? e) : e;
      }),
      abort: () => controller.abort(),
    };
  },
};
