/**
 * Finds a differencing image's parent on the local file system from the names the child records
 * (relative first, then absolute). Windows paths are read with '\' as a separator, and an
 * absolute Windows path ("C:\VMs\base.vhd") that does not exist here is also tried beside the
 * child, where a copied chain usually is. The first existing file wins; it opens read-only.
 *
 * Errors: INVALID_INPUT listing every path tried when none exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskError } from '../core/disk/errors.ts';
import { imageFileFromSync, type ImageFile } from '../core/formats/image-file.ts';
import { NodeSyncFile } from './node-sync-file.ts';

export function nodeParentResolver(childPath: string): (candidates: string[]) => Promise<ImageFile> {
  return async (candidates) => {
    const dir = path.dirname(childPath);
    const tried: string[] = [];
    for (const candidate of candidates) {
      const posix = candidate.replaceAll('\\', '/');
      const windowsAbsolute = /^[A-Za-z]:\//.test(posix) || posix.startsWith('//');
      const paths = windowsAbsolute ? [path.join(dir, path.posix.basename(posix))] : [path.resolve(dir, posix)];
      for (const p of paths) {
        if (tried.includes(p)) continue;
        tried.push(p);
        if (fs.existsSync(p)) return imageFileFromSync(new NodeSyncFile(p, { readOnly: true }), { name: p, writable: false });
      }
    }
    throw new DiskError('INVALID_INPUT', `${childPath}: parent image not found (looked for ${tried.join(', ') || 'nothing: the image names no parent'})`);
  };
}
