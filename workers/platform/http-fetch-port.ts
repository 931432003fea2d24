/**
 * The `HttpFetch` port (src/core/ports/http-fetch.ts) over a standard `fetch`: one implementation
 * for any platform whose fetch follows the WHATWG standard (browsers, workers, Node's undici).
 * `httpFetchOver(fetch, enforcesCors)` makes the port; browser-http-fetch.ts is the worker's.
 *
 * Redirects are followed (`redirect: 'follow'`) and the final URL reported. A request's
 * `timeoutMs` becomes `AbortSignal.timeout`; it and `abort()` reject pending work with the
 * signal's reason ('TimeoutError' / 'AbortError') as the port requires. A failed fetch rejects
 * with the platform's own error (a browser's TypeError 'Failed to fetch', which may be CORS): the
 * core classifies it, naming the headers a server must send when `enforcesCors` is set. In a
 * browser, `mode: 'cors'` and `credentials: 'omit'`: an image server needs no cookies, and a
 * credentialed request would need stricter CORS answers.
 */
import type { HttpBodyReader, HttpExchange, HttpFetch, HttpRequest, HttpResponse } from '../../src/core/ports/http-fetch.ts';

export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

export function httpFetchOver(fetchFn: FetchFunction, enforcesCors: boolean): HttpFetch {
  return {
    enforcesCors,
    request(request: HttpRequest): HttpExchange {
      const controller = new AbortController();
      const signal = request.timeoutMs === undefined ? controller.signal : AbortSignal.any([controller.signal, AbortSignal.timeout(Math.max(1, Math.ceil(request.timeoutMs)))]);
      const response = (async (): Promise<HttpResponse> => {
        const init: RequestInit = { method: request.method, headers: request.headers, redirect: 'follow', signal, ...(enforcesCors && { mode: 'cors', credentials: 'omit', cache: 'no-store' }) };
        const r = await fetchFn(request.url, init);
        const reader = r.body?.getReader();
        const body: HttpBodyReader | null =
          reader === undefined
            ? null
            : {
                read: async () => {
                  try {
                    return await reader.read();
                  } catch (e) {
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
}
