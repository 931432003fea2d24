/**
 * Persistent URL read caches in OPFS (the worker's `UrlCacheFiles`, src/core/url/open-url-spec.ts):
 * the cache named `n` is `disklab/url-cache/n.data` and `n.meta`, a PersistentLayer's two files,
 * created empty when missing. Files go through `openLabFile`, so the test-only simulated quota
 * (opfs-layers.ts) applies to cache fills as to everything else the lab writes.
 *
 * Errors: the OPFS port's DiskErrors (LOCKED when another tab has the same URL's cache open, QUOTA,
 * IO); the resolver turns a cache that cannot be opened into a disk without one.
 */
import type { UrlCacheFiles } from '../../src/core/url/open-url-spec.ts';
import type { PersistentLayerFiles } from '../../src/core/layered/persistent-layer.ts';
import { openLabFile } from './opfs-layers.ts';
import { LAB_FOLDER, opfsError } from './opfs-sync-file.ts';

export const URL_CACHE_FOLDER = `${LAB_FOLDER}/url-cache`;

async function open(name: string): Promise<PersistentLayerFiles> {
  const data = await openLabFile(`${URL_CACHE_FOLDER}/${name}.data`, { create: true });
  try {
    return { data, meta: await openLabFile(`${URL_CACHE_FOLDER}/${name}.meta`, { create: true }) };
  } catch (e) {
    data.close();
    throw e;
  }
}

async function remove(name: string): Promise<void> {
  let dir = await navigator.storage.getDirectory();
  try {
    for (const part of URL_CACHE_FOLDER.split('/')) dir = await dir.getDirectoryHandle(part, { create: true });
  } catch (e) {
    throw opfsError(e, URL_CACHE_FOLDER, 'opening the folder');
  }
  // Meta first: data without meta is a new, empty cache.
  for (const file of [`${name}.meta`, `${name}.data`]) {
    try {
      await dir.removeEntry(file);
    } catch (e) {
      if (e instanceof Error && e.name === 'NotFoundError') continue;
      throw opfsError(e, `${URL_CACHE_FOLDER}/${file}`, 'deleting');
    }
  }
}

export const opfsUrlCacheFiles: UrlCacheFiles = { open, remove };
