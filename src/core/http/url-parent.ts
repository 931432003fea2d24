/**
 * Finding a differencing image's parent on a web server: each name the child records is resolved
 * against the child's URL, and the first that exists is opened as an `HttpRangeSource` with the
 * child's options. Shared by the Node CLI (src/node/open-url.ts) and, later, the disk worker.
 *
 * A Windows absolute path ("C:\\VMs\\base.vhd") means nothing on a web server, and a local
 * absolute path rarely: such names, and any name after its recorded form, are also tried by their
 * file name beside the child.
 *
 * Errors: a 404/410 moves on to the next candidate; any other failure of a candidate (a 5xx, a
 * changed object, a CORS refusal) is thrown as is, because guessing past it could open the wrong
 * file; INVALID_INPUT listing every URL tried when none exists.
 */
import { DiskError } from '../disk/errors.ts';
import { HttpSourceError } from './http-error.ts';
import { HttpRangeSource, type HttpRangeSourceOptions } from './http-range-source.ts';

/** The first candidate that exists beside `childUrl`, opened as a range source. */
export async function openParentBeside(childUrl: string, candidates: readonly string[], options: HttpRangeSourceOptions): Promise<HttpRangeSource> {
  const tried: string[] = [];
  for (const candidate of candidates) {
    const posix = candidate.replaceAll('\\', '/');
    const baseName = posix.slice(posix.lastIndexOf('/') + 1);
    // A Windows absolute path ("C:\VMs\base.vhd") means nothing on a web server, and a local
    // absolute one rarely: after the name as recorded, look for the file beside the child.
    const names = /^[A-Za-z]:\//.test(posix) || posix.startsWith('//') ? [baseName] : [posix, baseName];
    for (const name of names) {
      const at = resolveBeside(childUrl, name);
      if (at === undefined) continue;
      if (tried.includes(at)) continue;
      tried.push(at);
      try {
        return await HttpRangeSource.open(at, options);
      } catch (e) {
        if (e instanceof HttpSourceError && (e.status === 404 || e.status === 410)) continue;
        throw e;
      }
    }
  }
  throw new DiskError('INVALID_INPUT', `${childUrl}: parent image not found (looked for ${tried.join(', ') || 'nothing: the image names no parent'})`);
}

/**
 * The URL of file `name` (a path as an image records it, not a URL: each segment is percent-encoded)
 * relative to the URL `base`, with '.' and '..' applied; a name starting with '/' is taken from the
 * base's origin. Core has no `URL` global, hence this small resolver. Undefined for a base that is
 * not an absolute http(s) URL.
 */
export function resolveBeside(base: string, name: string): string | undefined {
  const m = /^(https?:\/\/[^/?#]*)(\/[^?#]*)?/i.exec(base);
  if (m === null) return undefined;
  const origin = m[1]!;
  const path = m[2] ?? '/';
  // The base's segments are already URL-encoded and stay as they are; the name's are encoded.
  const out = name.startsWith('/') ? [] : path.slice(0, path.lastIndexOf('/')).split('/').filter((x) => x !== '');
  for (const segment of name.split('/')) {
    if (segment === '..') out.pop();
    else if (segment !== '.' && segment !== '') out.push(encodeURIComponent(segment));
  }
  return `${origin}/${out.join('/')}`;
}
