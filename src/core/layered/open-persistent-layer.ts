/**
 * Opening a `persistent-layer` LayerSpec (spec.ts): the resolver's one way from a layer name to a
 * PersistentLayer, through the platform's `openLayerFiles` (OPFS in the worker, files in Node).
 *
 * Promises
 * - A layer whose meta file is empty is new: it is created with the geometry of the stack it
 *   joins (`sizer`, the first disk layer), so a name is all a spec needs.
 * - An existing layer must match that geometry (sector size and count): a layer made over one
 *   image is refused over another of a different size rather than silently misread.
 * - Whatever fails, the files opened for it are closed before the error is thrown.
 *
 * Errors: DiskConfigError('INVALID_PARAMETER', field 'name') for a bad name or a geometry
 * mismatch, ('UNSUPPORTED_FORMAT', field 'kind') when the platform has no persistent layers;
 * the port's DiskErrors (LOCKED when another stack or tab holds the layer, QUOTA, IO) and
 * CORRUPT_IMAGE from PersistentLayer.open pass through.
 */
import { DiskConfigError } from '../disk/errors.ts';
import type { SyncFile } from '../ports/sync-file.ts';
import { PersistentLayer, type PersistentLayerFiles } from './persistent-layer.ts';

export interface LayerGeometry {
  readonly sectors: number;
  readonly sectorSize: number;
}

/** What the platform gives for a layer name: its two files, created empty when missing (unless read-only). */
export type OpenLayerFiles = (name: string, options: { readonly readOnly: boolean }) => Promise<PersistentLayerFiles>;

/** Layer names are plain file names: the platform stores `<name>.data` and `<name>.meta`. */
export function checkLayerName(name: string): void {
  const bad = (why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', 'name', `layer name '${String(name)}' ${why}`, { value: name });
  };
  if (typeof name !== 'string' || name.trim() === '') bad('is empty');
  if (/[/\\\0]/.test(name)) bad("may not contain '/', '\\' or NUL");
  if (name === '.' || name === '..') bad('is reserved');
  if (name.length > 200) bad('is longer than 200 characters');
}

export async function openPersistentLayer(
  name: string,
  sizer: LayerGeometry,
  open: OpenLayerFiles | undefined,
  options: { readonly readOnly?: boolean } = {},
): Promise<PersistentLayer> {
  checkLayerName(name);
  if (!open) throw new DiskConfigError('UNSUPPORTED_FORMAT', 'kind', `this platform cannot keep persistent layers (layer '${name}')`);
  const readOnly = options.readOnly ?? false;
  const files = await open(name, { readOnly });
  try {
    if (files.meta.size() === 0) {
      if (readOnly) throw new DiskConfigError('INVALID_PARAMETER', 'name', `persistent layer '${name}' does not exist (and cannot be created read-only)`, { value: name });
      return PersistentLayer.create(files, { sectors: sizer.sectors, sectorSize: sizer.sectorSize }, { name });
    }
    const layer = PersistentLayer.open(files, { readOnly, name });
    if (layer.sectorSize !== sizer.sectorSize || layer.sectorCount() !== sizer.sectors) {
      const what = `${layer.sectorCount()} x ${layer.sectorSize} B`;
      await layer.close().catch(() => undefined);
      throw new DiskConfigError('INVALID_PARAMETER', 'name', `persistent layer '${name}' is ${what}, but the disk below is ${sizer.sectors} x ${sizer.sectorSize} B: reset it or use another name`, { value: name });
    }
    return layer;
  } catch (e) {
    closeFile(files.data);
    closeFile(files.meta);
    throw e;
  }
}

function closeFile(file: SyncFile): void {
  try {
    file.close();
  } catch {
    // Already failing; closing twice (after layer.close) is harmless for the ports.
  }
}
