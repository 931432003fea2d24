// The fetch port over a real standard fetch (Node's, the same WHATWG API the worker has), against
// a loopback server: range bodies arrive whole, HEAD has no body, abort and timeout reject with the
// names the port promises, and an HttpRangeSource over it reads the served bytes exactly.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRangeSource } from '../../src/core/http/http-range-source.ts';
import { httpFetchOver } from './http-fetch-port.ts';

const object = new Uint8Array(200_000).map((_, i) => (i * 31 + 7) & 0xff);
let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const headers = { ETag: '"e1"', 'Accept-Ranges': 'bytes' };
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'Content-Length': object.length }).end();
    if (!m) return void res.writeHead(200, { ...headers, 'Content-Length': object.length }).end(object);
    const [first, last] = [Number(m[1]), Math.min(Number(m[2]), object.length - 1)];
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${first}-${last}/${object.length}`, 'Content-Length': last - first + 1 });
    res.end(object.subarray(first, last + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const port = httpFetchOver((url, init) => fetch(url, init), false);

async function bodyOf(url: string, headers: Record<string, string>): Promise<{ status: number; bytes: Uint8Array }> {
  const response = await port.request({ method: 'GET', url, headers }).response;
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await response.body!.read();
    if (done) break;
    if (value) parts.push(value);
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { status: response.status, bytes };
}

describe('httpFetchOver', () => {
  it('delivers a range body whole, with the headers, and HEAD without a body', async () => {
    const got = await bodyOf(`${base}/o`, { Range: 'bytes=1000-70999' });
    expect(got.status).toBe(206);
    expect(Buffer.from(got.bytes).equals(Buffer.from(object.subarray(1000, 71000)))).toBe(true);
    const head = await port.request({ method: 'HEAD', url: `${base}/o`, headers: {} }).response;
    expect(head.headers.get('etag')).toBe('"e1"');
    expect(head.body === null || (await head.body.read()).done).toBe(true);
    expect(port.enforcesCors).toBe(false);
  });

  it('rejects with AbortError on abort and TimeoutError after timeoutMs', async () => {
    const exchange = port.request({ method: 'GET', url: `${base}/slow`, headers: {} });
    exchange.abort();
    await expect(exchange.response).rejects.toMatchObject({ name: 'AbortError' });
    await expect(port.request({ method: 'GET', url: `${base}/slow`, headers: {}, timeoutMs: 50 }).response).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('carries an HttpRangeSource that reads the object exactly', async () => {
    const source = await HttpRangeSource.open(`${base}/o`, { fetch: port, chunkSize: 16 * 1024 });
    expect(source.size).toBe(object.length);
    expect(source.identity).toContain('"e1"');
    for (const [offset, length] of [[0, 1], [5000, 40_000], [object.length - 333, 333]] as const) {
      expect(Buffer.from(await source.read(offset, length)).equals(Buffer.from(object.subarray(offset, offset + length)))).toBe(true);
    }
    await source.close();
  });
});
