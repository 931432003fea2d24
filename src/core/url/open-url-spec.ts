/**
 * Resolving a `url` DiskSpec (spec.ts): a disk image read in place from a web server by range
 * requests, optionally under a persistent read cache, through the platform's `UrlPlatform`
 * (`SpecPlatform.http`: the fetch port, and the cache's files).
 *
 * The stack built, bottom up:
 *   HttpRangeSource (memory chunk cache, coalescing, readahead; core/http)
 *   -> BlobDisk of the object's bytes (512-byte sectors, a partial last sector reads as zeroes)
 *   -> LayeredDisk [ReadCacheGuard(PersistentLayer) as a read cache, DiskLayer(BlobDisk)]
 *   -> the image format, opened by content (raw, fixed/dynamic/differencing VHD, VHDX, qcow2)
 *      over those cached bytes, read-only. A page adds its RAM diff above (the spec's parent).
 * The cache sits under the format on purpose: headers, tables and data are all object bytes, so
 * a reload reads them locally and asks the server only for the HEAD that validates the object.
 *
 * What the persistent cache promises
 * - It is keyed by the URL without its query (url-cache-key.ts `cacheName`) and carries an id made
 *   of that URL, the object's identity (ETag or Last-Modified), its size and the cache's sector
 *   size; an existing cache is reused only when all of them match, else it is deleted and made
 *   anew. A server that sends no identity gets no persistent cache at all (a changed object could
 *   not be told from the cached one), only the memory cache.
 * - Bytes enter it only from validated responses (the source checks every one against the
 *   identity), by write-no-overwrite fills, and are made durable shortly after (read-cache-guard).
 * - When the source reports the object `changed`, the cache is discarded: it stops serving and its
 *   files are deleted, so no later session can mix versions either.
 * - A cache that cannot be opened (LOCKED by another tab, QUOTA, a damaged file) or that fails to
 *   fill (QUOTA) never fails the open or a read: the disk works without it and says why.
 * Parents of a differencing image are found beside the child (url-parent.ts) and read with the
 * memory cache only.
 *
 * Errors: UNSUPPORTED_FORMAT DiskConfigError when the platform has no fetch port; the source's
 * HttpSourceErrors (NETWORK with a reason; a CORS message in browsers); the formats' errors. On
 * failure everything opened is closed.
 */
import { BlobDisk } from '../backends/blob-disk.ts';
import type { Disk } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { openSource } from '../formats/open-source.ts';
import { imageFileFromRange, type ImageFile } from '../formats/image-file.ts';
import { HttpSourceError } from '../http/http-error.ts';
import { HttpRangeSource, type HttpRangeSourceOptions } from '../http/http-range-source.ts';
import { openParentBeside } from '../http/url-parent.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { PersistentLayer, type PersistentLayerFiles } from '../layered/persistent-layer.ts';
import type { Clock } from '../ports/clock.ts';
import type { HttpFetch } from '../ports/http-fetch.ts';
import type { RangeSource } from '../ports/range-source.ts';
import type { ResolvedDiskNode, ResolvedLayerNode, SpecPlatform } from '../resolve-spec.ts';
import { describeSpec, type DiskSpec } from '../spec.ts';
import { DiskRangeSource } from './disk-range-source.ts';
import { ReadCacheGuard } from './read-cache-guard.ts';
import { cacheLayerId, cacheName, sameId } from './url-cache-key.ts';

/** The cache's sector size: the object's bytes, not the guest's sectors, are what it holds. */
export const URL_CACHE_SECTOR_SIZE = 512;

export type UrlSpec = Extract<DiskSpec, { kind: 'url' }>;

/** Where persistent URL caches live: a pair of files per name, created empty when missing. */
export interface UrlCacheFiles {
  open(name: string): Promise<PersistentLayerFiles>;
  /** Deletes both files (nothing when missing). */
  remove(name: string): Promise<void>;
}

export interface UrlPlatform {
  readonly fetch: HttpFetch;
  /** Without it, `persistentCache` is ignored (the disk says so in `cacheOff`). */
  readonly cacheFiles?: UrlCacheFiles;
  readonly clock?: Clock;
  /** Told of every URL disk opened, so the platform can show its statistics. */
  readonly onOpened?: (opened: OpenedUrlDisk) => void;
  /** Delay of the cache's flush after a fill; default 200 ms. */
  readonly cacheFlushDelayMs?: number;
}

export interface OpenedUrlDisk {
  readonly url: string;
  readonly source: HttpRangeSource;
  /** Parents' sources, child first (a differencing image's chain). */
  readonly parents: readonly HttpRangeSource[];
  /** The persistent read cache, when there is one. */
  readonly cache: ReadCacheGuard | undefined;
  readonly cacheName: string | undefined;
  /** True when an existing cache of this object version was reused. */
  readonly cacheReused: boolean;
  /** Why there is no persistent cache, when there is none. */
  readonly cacheOff: string | undefined;
  /** The object's bytes under the cache (sectors of URL_CACHE_SECTOR_SIZE), when there is a cache. */
  readonly objectDisk: LayeredDisk | undefined;
  readonly format: string;
}

export async function resolveUrlNode(spec: UrlSpec, platform: SpecPlatform, id: string): Promise<ResolvedDiskNode> {
  const http = platform.http;
  if (!http) throw new DiskConfigError('UNSUPPORTED_FORMAT', 'kind', `this platform cannot fetch: ${spec.url} cannot be opened`);
  const options: HttpRangeSourceOptions = {
    fetch: http.fetch,
    ...(http.clock && { clock: http.clock }),
    ...(spec.chunkSize !== undefined && { chunkSize: spec.chunkSize }),
    ...(spec.cacheBytes !== undefined && { cacheBytes: spec.cacheBytes }),
  };
  const source = await HttpRangeSource.open(spec.url, options);
  const parents: HttpRangeSource[] = [];
  let cached: OpenedCache | undefined;
  let cacheOff: string | undefined;
  try {
    if (!spec.persistentCache) cacheOff = 'not asked for';
    else if (!http.cacheFiles) cacheOff = 'this platform has no persistent storage';
    else if (source.identity === undefined) cacheOff = 'the server sends no ETag or Last-Modified, so a changed object could not be told from a cached one';
    else {
      try {
        cached = await openCache(source, source.identity, http.cacheFiles, http.cacheFlushDelayMs);
      } catch (e) {
        cacheOff = `the cache could not be opened (${e instanceof Error ? e.message : String(e)})`;
      }
    }
    const bytes: RangeSource = cached ? new DiskRangeSource(cached.disk, { size: source.size, name: source.name, identity: source.identity }) : source;
    const chain = [spec.url];
    const resolveParent = async (candidates: string[]): Promise<ImageFile> => {
      const parent = await openParentBeside(chain[chain.length - 1]!, candidates, options);
      parents.push(parent);
      chain.push(parent.url);
      return imageFileFromRange(parent);
    };
    const opened = await openSource(bytes, { format: spec.format, inflate: platform.inflate, resolveParent });
    const what = opened.format === 'raw' ? 'raw' : `${opened.subformat ?? ''} ${opened.format.toUpperCase()}`.trim();
    http.onOpened?.({
      url: spec.url, source, parents, cache: cached?.guard, cacheName: cached?.name, cacheReused: cached?.reused ?? false,
      cacheOff, objectDisk: cached?.disk, format: what,
    });
    const label = `${what} over HTTP: ${describeSpec(spec)}`;
    const node = (role: ResolvedDiskNode['role'], disk: Disk, children: ResolvedDiskNode['children']): ResolvedDiskNode => ({ kind: 'disk', id, role, label, spec, disk, children });
    if (!cached) return node(opened.format === 'raw' ? 'backend' : 'format', opened.disk, []);
    const cacheNode = objectNode(spec, cached, `${id}.0`);
    return node('format', opened.disk, [cacheNode]);
  } catch (e) {
    await Promise.all([source, ...parents].map((s) => s.close().catch(() => undefined)));
    await cached?.guard.close().catch(() => undefined);
    throw e;
  }
}

interface OpenedCache {
  readonly name: string;
  readonly guard: ReadCacheGuard;
  readonly blob: BlobDisk;
  readonly disk: LayeredDisk;
  readonly reused: boolean;
}

/** The object's bytes as a LayeredDisk: the persistent read cache over the source. */
async function openCache(source: HttpRangeSource, identity: string, files: UrlCacheFiles, flushDelayMs: number | undefined): Promise<OpenedCache> {
  const name = cacheName(source.url);
  const ss = URL_CACHE_SECTOR_SIZE;
  const sectors = Math.max(1, Math.ceil(source.size / ss));
  const layerId = cacheLayerId(source.url, identity, source.size, ss);
  let pair = await files.open(name);
  let layer: PersistentLayer | undefined;
  let reused = false;
  try {
    if (pair.meta.size() > 0) {
      try {
        const existing = PersistentLayer.open(pair, { name });
        if (sameId(existing.diskId, layerId) && existing.sectorCount() === sectors && existing.sectorSize === ss) {
          layer = existing;
          reused = true;
        } else {
          await existing.close();
        }
      } catch {
        // A damaged cache is only a cache: start again.
      }
      if (!layer) {
        closePair(pair);
        await files.remove(name);
        pair = await files.open(name);
      }
    }
    layer ??= PersistentLayer.create(pair, { sectors, sectorSize: ss, layerId }, { name });
  } catch (e) {
    closePair(pair);
    throw e;
  }
  const guard = new ReadCacheGuard(layer, { ...(flushDelayMs !== undefined && { flushDelayMs }), onDiscard: () => files.remove(name) });
  const blob = new BlobDisk(new ChangeWatch(source, () => void guard.discard()), { sectors, sectorSize: ss, diskType: 'http' });
  const disk = new LayeredDisk([{ layer: guard, readCache: true }, { layer: new DiskLayer(blob) }], { readOnly: true });
  return { name, guard, blob, disk, reused };
}

function objectNode(spec: UrlSpec, cached: OpenedCache, id: string): ResolvedDiskNode {
  const layers: ResolvedLayerNode[] = [
    {
      kind: 'layer', id: `${id}.0`, role: 'layer', label: `persistent read cache ${cached.name}${cached.reused ? ' (reused)' : ''}`,
      config: { layer: cached.guard, readCache: true, writeThrough: false }, children: [],
    },
    {
      kind: 'layer', id: `${id}.1`, role: 'layer', label: 'HTTP object', config: { layer: new DiskLayer(cached.blob), readCache: false, writeThrough: false },
      children: [{ kind: 'disk', id: `${id}.1.0`, role: 'backend', label: `HTTP range requests: ${spec.url}`, spec, disk: cached.blob, children: [] }],
    },
  ];
  return { kind: 'disk', id, role: 'layered', label: 'object bytes under a persistent read cache', spec, disk: cached.disk, children: layers };
}

/** The source, telling `onChanged` (once) when the server's object is no longer the one opened. */
class ChangeWatch implements RangeSource {
  readonly #inner: HttpRangeSource;
  readonly #onChanged: () => void;
  #told = false;

  constructor(inner: HttpRangeSource, onChanged: () => void) {
    this.#inner = inner;
    this.#onChanged = onChanged;
  }

  get size(): number {
    return this.#inner.size;
  }
  get identity(): string | undefined {
    return this.#inner.identity;
  }
  get name(): string {
    return this.#inner.name;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.#watch(this.#inner.read(offset, length));
  }

  readInto(offset: number, into: Uint8Array): Promise<void> {
    return this.#watch(this.#inner.readInto(offset, into));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #watch<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof HttpSourceError && e.reason === 'changed' && !this.#told) {
        this.#told = true;
        this.#onChanged();
      }
      throw e;
    }
  }
}

function closePair(pair: PersistentLayerFiles): void {
  for (const f of [pair.data, pair.meta]) {
    try {
      f.close();
    } catch {
      // Closing an already closed file (after a layer's close) is harmless.
    }
  }
}
