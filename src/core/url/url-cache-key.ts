/**
 * Names and identities of persistent URL read caches (see open-url-spec.ts).
 *
 * Promises
 * - `cacheName(url)` depends only on the URL without its query and fragment, so one object has
 *   one cache file pair however it was signed (a signed URL's query changes every time) and a new
 *   version of the object replaces the old cache instead of piling up beside it.
 * - `cacheLayerId(...)` is 16 bytes derived from that URL, the object's identity (ETag or
 *   Last-Modified), its size and the cache's sector size: stored as the persistent layer's id, it
 *   decides whether an existing cache may be reused. Any difference gives another id.
 *
 * The hashes are FNV-1a variants: not cryptographic (the cache is the user's own, in their own
 * origin's storage), only well spread; a collision of 128 bits of id is not a practical concern.
 * Errors: none.
 */

/** The URL without `?query` and `#fragment`. */
export function urlWithoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : url.slice(0, cut);
}

/** A file-name-safe name for the cache of `url` ("url-" and 16 hex digits). */
export function cacheName(url: string): string {
  const base = urlWithoutQuery(url);
  return `url-${hex32(fnv1a(base, 0x811c9dc5))}${hex32(fnv1a(base, 0x01000193 ^ 0x5bd1e995))}`;
}

/** The persistent layer id a cache of this object version must carry to be reused. */
export function cacheLayerId(url: string, identity: string, size: number, sectorSize: number): Uint8Array {
  const key = `${urlWithoutQuery(url)}\n${identity}\n${size}\n${sectorSize}`;
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, fnv1a(key, (0x811c9dc5 ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0));
  return out;
}

export function sameId(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final avalanche so short keys that differ in one character differ in many bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
