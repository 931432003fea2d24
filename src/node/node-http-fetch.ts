/**
 * The `HttpFetch` port (src/core/ports/http-fetch.ts) over Node's global `fetch` (undici): the
 * same standard-fetch adapter the worker uses (workers/platform/http-fetch-port.ts), without CORS.
 *
 * Node enforces no CORS, so `enforcesCors` is false. `AbortSignal.timeout`'s timer does not keep
 * the process alive. Errors are Node's own (a TypeError 'fetch failed' whose `cause` carries
 * ECONNREFUSED, ECONNRESET ...); the core classifies them.
 */
import type { HttpFetch } from '../core/ports/http-fetch.ts';
import { httpFetchOver } from '../../workers/platform/http-fetch-port.ts';

export const nodeHttpFetch: HttpFetch = httpFetchOver((url, init) => fetch(url, init), false);
