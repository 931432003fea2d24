/**
 * The disk worker's `HttpFetch` port: the standard fetch of the worker (http-fetch-port.ts) with
 * `enforcesCors` set, since a failed fetch here may be a CORS refusal and a response header the
 * server did not expose reads as null; the core's messages then say what the server must send.
 * `cache: 'no-store'`: the lab has its own chunk and OPFS caches, and the HTTP cache would only
 * hold second copies (and could answer a range from a stale object).
 */
import type { HttpFetch } from '../../src/core/ports/http-fetch.ts';
import { httpFetchOver } from './http-fetch-port.ts';

export const browserHttpFetch: HttpFetch = httpFetchOver((url, init) => fetch(url, init), true);
