/**
 * A misbehaving HTTP server for tests and benchmarks: serves byte arrays by path on 127.0.0.1 (a
 * random port, loopback only) with range support, and can be switched into the failure modes a
 * real CDN or object store shows, so the HTTP RangeSource can be tested against each.
 *
 * Modes (`mode`, changeable at any time; they shape GETs, and HEADs where noted):
 * - 'correct': 206 with Content-Range, ETag, Last-Modified; honours If-Range and If-Match.
 * - 'ignore-range': 200 with the whole object.
 * - 'status-416': 416 Range Not Satisfiable for every range.
 * - 'short-body': 206 with the right Content-Range but only half the bytes (Content-Length says so).
 * - 'drop-mid-body': 206 announcing the whole range, half the bytes, then the socket is destroyed.
 * - 'wrong-content-range': 206 with the bytes and Content-Range of the range shifted by one.
 * - 'gzip': 206 whose body is gzip-compressed, with Content-Encoding: gzip.
 * - 'etag-changes': every response (HEAD too) comes from a new version of the object (new ETag,
 *   different bytes); If-Range against an old ETag gets the new object as a 200, as HTTP says.
 * - 'transient-503': the next `transientFailures` requests (HEAD too) get 503, then 'correct'.
 * - 'slow': every response (HEAD too) waits `delayMs` before its headers.
 * `headRefused` answers HEAD with 405 in every mode; `cors` adds CORS headers and answers preflights.
 *
 * Counting: `log` records every request (method, path, Range header, status); `countRange`
 * counts the GETs for one Range value.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export type HttpTestMode =
  | 'correct'
  | 'ignore-range'
  | 'status-416'
  | 'short-body'
  | 'drop-mid-body'
  | 'wrong-content-range'
  | 'gzip'
  | 'etag-changes'
  | 'transient-503'
  | 'slow';

export interface HttpTestServerOptions {
  /** Served objects by path ('/disk.img'). */
  readonly files: Readonly<Record<string, Uint8Array>>;
  readonly mode?: HttpTestMode;
  readonly headRefused?: boolean;
  /** Send an ETag (default true) and a Last-Modified (default true). */
  readonly etag?: boolean;
  readonly lastModified?: boolean;
  readonly transientFailures?: number;
  readonly delayMs?: number;
  /** Redirects: path -> location (absolute URL or path), answered with 302. */
  readonly redirects?: Readonly<Record<string, string>>;
  readonly cors?: boolean;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly status: number;
}

const LAST_MODIFIED = 'Tue, 15 Nov 1994 12:45:26 GMT';

export class HttpTestServer {
  mode: HttpTestMode;
  headRefused: boolean;
  transientFailures: number;
  delayMs: number;
  readonly log: RequestRecord[] = [];
  readonly #options: HttpTestServerOptions;
  readonly #server: http.Server;
  #version = 0;
  #port = 0;

  private constructor(options: HttpTestServerOptions) {
    this.#options = options;
    this.mode = options.mode ?? 'correct';
    this.headRefused = options.headRefused ?? false;
    this.transientFailures = options.transientFailures ?? 1;
    this.delayMs = options.delayMs ?? 200;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
  }

  static async start(options: HttpTestServerOptions): Promise<HttpTestServer> {
    const server = new HttpTestServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, '127.0.0.1', () => resolve());
    });
    server.#port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  url(path: string): string {
    return this.origin + path;
  }

  /** Back to the options' settings: mode, failures, delay, the object's first version, an empty log. */
  reset(): void {
    this.mode = this.#options.mode ?? 'correct';
    this.headRefused = this.#options.headRefused ?? false;
    this.transientFailures = this.#options.transientFailures ?? 1;
    this.delayMs = this.#options.delayMs ?? 200;
    this.#version = 0;
    this.log.length = 0;
  }

  /** GETs whose Range header was exactly `range` (e.g. 'bytes=0-511'), of one path or of all. */
  countRange(range: string, path?: string): number {
    return this.log.filter((r) => r.method === 'GET' && r.range === range && (path === undefined || r.path === path)).length;
  }

  /** The bytes the object at `path` has in its current version ('etag-changes' alters them). */
  contentOf(path: string): Uint8Array | undefined {
    const base = this.#options.files[path];
    if (base === undefined || this.#version === 0) return base;
    const out = base.slice();
    for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ (this.#version & 0xff || 1);
    return out;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const range = req.headers.range;
    const send = (status: number, headers: http.OutgoingHttpHeaders, body?: Uint8Array) => {
      this.log.push({ method, path, range, status });
      res.writeHead(status, { ...this.#corsHeaders(), ...headers });
      res.end(body === undefined || method === 'HEAD' ? undefined : body);
    };
    if (method === 'OPTIONS' && this.#options.cors) return send(204, {});
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.mode === 'transient-503' && this.transientFailures > 0) {
      this.transientFailures--;
      return send(503, { 'Content-Length': 0, 'Retry-After': '0' });
    }
    const redirect = this.#options.redirects?.[path];
    if (redirect !== undefined) return send(302, { Location: redirect, 'Content-Length': 0 });
    if (this.mode === 'etag-changes' && (method === 'GET' || method === 'HEAD')) this.#version++;
    const content = this.contentOf(path);
    if (content === undefined) return send(404, { 'Content-Length': 0 });
    const size = content.length;
    const validators: http.OutgoingHttpHeaders = {};
    const etag = `"v${this.#version}-${size}"`;
    if (this.#options.etag ?? true) validators['ETag'] = etag;
    if (this.#options.lastModified ?? true) validators['Last-Modified'] = LAST_MODIFIED;
    const base = { ...validators, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (method === 'HEAD') {
      if (this.headRefused) return send(405, { Allow: 'GET', 'Content-Length': 0 });
      return send(200, { ...base, 'Content-Length': size });
    }
    if (method !== 'GET') return send(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== etag && ifMatch !== '*') return send(412, { 'Content-Length': 0 });
    const ifRange = req.headers['if-range'];
    const rangeValid = ifRange === undefined || ifRange === etag || ifRange === LAST_MODIFIED;
    const parsed = range === undefined || !rangeValid ? undefined : parseRange(range, size);
    if (parsed === undefined || this.mode === 'ignore-range') return send(200, { ...base, 'Content-Length': size }, content);
    if (parsed === 'unsatisfiable' || this.mode === 'status-416') return send(416, { ...validators, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    let [first, last] = parsed;
    if (this.mode === 'wrong-content-range') [first, last] = last + 1 < size ? [first + 1, last + 1] : [first - 1, last - 1];
    const slice = content.subarray(first, last + 1);
    const partial = { ...base, 'Content-Range': `bytes ${first}-${last}/${size}` };
    switch (this.mode) {
      case 'short-body': {
        const half = slice.subarray(0, Math.floor(slice.length / 2));
        return send(206, { ...partial, 'Content-Length': half.length }, half);
      }
      case 'gzip': {
        const zipped = gzipSync(slice);
        return send(206, { ...partial, 'Content-Encoding': 'gzip', 'Content-Length': zipped.length }, zipped);
      }
      case 'drop-mid-body': {
        this.log.push({ method, path, range, status: 206 });
        res.writeHead(206, { ...this.#corsHeaders(), ...partial, 'Content-Length': slice.length });
        res.write(slice.subarray(0, Math.floor(slice.length / 2)), () => setTimeout(() => res.socket?.destroy(), 5));
        return;
      }
      default:
        return send(206, { ...partial, 'Content-Length': slice.length }, slice);
    }
  }

  #corsHeaders(): http.OutgoingHttpHeaders {
    if (!this.#options.cors) return {};
    return {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'Range, If-Range, If-Match',
      'Access-Control-Expose-Headers': 'Content-Range, Content-Length, ETag, Last-Modified, Accept-Ranges, Content-Encoding',
    };
  }
}

/** One range of `bytes=first-last`, `bytes=first-` or `bytes=-suffix`; undefined when it is not one we honour. */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (first >= size || last < first) return 'unsatisfiable';
  return [first, last];
}
