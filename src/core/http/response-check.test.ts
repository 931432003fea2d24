import { describe, expect, it } from 'vitest';
import { checkRangeResponse, conditionalHeaders, identityOf, parseContentRange, type ObjectValidator } from './response-check.ts';
import type { HttpResponse } from '../ports/http-fetch.ts';
import { HttpSourceError, type HttpFailure } from './http-error.ts';

const v: ObjectValidator = { etag: '"a"', lastModified: 'Tue, 15 Nov 1994 12:45:26 GMT' };

function response(status: number, headers: Record<string, string>): HttpResponse {
  const h = new Map(Object.entries(headers).map(([k, x]) => [k.toLowerCase(), x]));
  return { status, url: 'http://x/', headers: { get: (n) => h.get(n.toLowerCase()) ?? null }, body: null };
}

function failure(status: number, headers: Record<string, string>): HttpFailure | 'ok' {
  try {
    checkRangeResponse(response(status, headers), { offset: 100, length: 50, size: 1000, validator: v }, 'http://x/', false);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(HttpSourceError);
    return (e as HttpSourceError).reason;
  }
}

describe('parseContentRange', () => {
  it('parses ranges, unknown totals and unsatisfied ranges, and rejects malformed ones', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ kind: 'range', first: 0, last: 99, total: 1000 });
    expect(parseContentRange('bytes 5-9/*')).toEqual({ kind: 'range', first: 5, last: 9, total: undefined });
    expect(parseContentRange('bytes */1000')).toEqual({ kind: 'unsatisfied', total: 1000 });
    for (const bad of ['', 'bytes 9-5/100', 'bytes 0-100/100', 'items 0-1/2', 'bytes */*', 'bytes 0-1/2,3-4/5']) expect(parseContentRange(bad)).toBeUndefined();
  });
});

describe('checkRangeResponse', () => {
  const good = { 'Content-Range': 'bytes 100-149/1000', 'Content-Length': '50', ETag: '"a"' };
  it('accepts only the exact 206', () => {
    expect(failure(206, good)).toBe('ok');
    expect(failure(206, { ...good, ETag: '"b"' })).toBe('changed');
    expect(failure(206, { ...good, 'Content-Range': 'bytes 100-149/1001' })).toBe('changed');
    expect(failure(206, { ...good, 'Content-Range': 'bytes 101-150/1000' })).toBe('wrong-range');
    expect(failure(206, { 'Content-Length': '50' })).toBe('wrong-range');
    expect(failure(206, { ...good, 'Content-Encoding': 'gzip' })).toBe('encoded');
    expect(failure(206, { ...good, 'Content-Encoding': 'identity' })).toBe('ok');
    expect(failure(206, { ...good, 'Content-Length': '49' })).toBe('short-body');
    expect(failure(206, { ...good, 'Content-Length': '51' })).toBe('long-body');
  });

  it('tells a changed object from a server that ignores Range, and classifies statuses', () => {
    expect(failure(200, { ETag: '"b"' })).toBe('changed');
    expect(failure(200, { ETag: '"a"', 'Content-Length': '1000' })).toBe('ignores-range');
    expect(failure(200, { 'Content-Length': '999' })).toBe('changed');
    expect(failure(412, {})).toBe('changed');
    expect(failure(416, { 'Content-Range': 'bytes */500' })).toBe('changed');
    expect(failure(416, { 'Content-Range': 'bytes */1000' })).toBe('status');
    let e: unknown;
    try {
      checkRangeResponse(response(503, {}), { offset: 0, length: 1, size: 1000, validator: v }, 'u', false);
    } catch (x) {
      e = x;
    }
    expect((e as HttpSourceError).transient).toBe(true);
    expect(failure(403, {})).toBe('status');
  });
});

describe('validators', () => {
  it('use a strong ETag for If-Range, else Last-Modified, else nothing', () => {
    expect(conditionalHeaders(v)).toEqual({ 'If-Range': '"a"' });
    expect(conditionalHeaders({ ...v, etag: 'W/"a"' })).toEqual({ 'If-Range': v.lastModified });
    expect(conditionalHeaders({ etag: undefined, lastModified: undefined })).toEqual({});
    expect(identityOf(v)).toBe('etag "a"');
    expect(identityOf({ etag: undefined, lastModified: 'x' })).toBe('last-modified x');
    expect(identityOf({ etag: undefined, lastModified: undefined })).toBeUndefined();
  });
});
