/**
 * Opening a disk image by http(s) URL in Node, into the same shape `openImage` returns, so the CLI
 * commands that read (info, convert, map, compare) work on remote images unchanged.
 *
 * The object is read in place through an `HttpRangeSource` (range requests, chunk cache,
 * validation against its ETag) over Node's fetch; the format is named or detected by content and
 * opened through `openSource`, read-only. A differencing VHD/VHDX or a qcow2 overlay finds its
 * parent beside it: each name the child records is resolved against the child's URL (a Windows
 * absolute path by its file name) and opened the same way.
 *
 * Errors: READ_ONLY when asked to open writable; the source's HttpSourceErrors (NETWORK with a
 * reason, e.g. 'status' for a 404); the formats' CORRUPT_IMAGE/UNSUPPORTED; INVALID_INPUT when
 * no parent candidate exists. On failure every source this call opened is closed.
 */
import { openDisk } from '../core/disk/open-disk.ts';
import { DiskError } from '../core/disk/errors.ts';
import { openSource } from '../core/formats/open-source.ts';
import { imageFileFromRange, type ImageFile } from '../core/formats/image-file.ts';
import { HttpRangeSource, type HttpRangeSourceOptions } from '../core/http/http-range-source.ts';
import { openParentBeside } from '../core/http/url-parent.ts';
import type { HttpFetch } from '../core/ports/http-fetch.ts';
import { nodeHttpFetch } from './node-http-fetch.ts';
import { nodeInflate } from './node-inflate.ts';
import { parseFormatName, type OpenedImage, type OpenImageOptions } from './open-image.ts';

export interface OpenUrlOptions extends OpenImageOptions {
  /** The fetch port; default Node's fetch. */
  readonly fetch?: HttpFetch;
  /** Chunk size, cache size, limits and deadline of the range source (and its parents'). */
  readonly source?: Omit<HttpRangeSourceOptions, 'fetch'>;
}

export interface OpenedUrl extends OpenedImage {
  /** The image's own range source, for its statistics. */
  readonly source: HttpRangeSource;
  /** Every source opened: the image's, then its parents', child first. */
  readonly sources: readonly HttpRangeSource[];
}

/** Whether a CLI argument names an http(s) URL rather than a path. */
export function isHttpUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

export async function openUrl(url: string, options: OpenUrlOptions = {}): Promise<OpenedUrl> {
  if (options.readOnly === false) throw new DiskError('READ_ONLY', `${url}: images opened by URL are read-only (copy it with convert to write)`);
  const named = options.format === undefined ? undefined : parseFormatName(options.format);
  const sourceOptions: HttpRangeSourceOptions = { ...options.source, fetch: options.fetch ?? nodeHttpFetch };
  const source = await HttpRangeSource.open(url, sourceOptions);
  const sources = [source];
  const chain = [url];
  const resolveParent = async (candidates: string[]): Promise<ImageFile> => {
    const parent = await openParentBeside(chain[chain.length - 1]!, candidates, sourceOptions);
    sources.push(parent);
    chain.push(parent.url);
    return imageFileFromRange(parent);
  };
  try {
    const opened = await openSource(source, { format: named, resolveParent, inflate: nodeInflate });
    const structured =
      opened.format === 'raw' || opened.subformat === 'fixed' || opened.subformat === undefined
        ? undefined
        : { disk: opened.disk, warnings: [], subformat: opened.subformat, chain: [...chain] };
    return {
      path: url,
      format: opened.format,
      detected: named === undefined,
      disk: openDisk(opened.disk),
      vhdFooter: opened.vhdFooter,
      ...(structured === undefined ? {} : { structured }),
      source,
      sources,
    };
  } catch (e) {
    await Promise.all(sources.map((s) => s.close()));
    throw e;
  }
}
