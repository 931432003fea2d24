/**
 * Persistent diff layers in OPFS, and the library operations the image list lacks (rename).
 *
 * A layer named `n` is the two files `disklab/layers/n.data` and `disklab/layers/n.meta`
 * (layered/persistent-layer.ts; crash consistency is the layer's). `openLayerFiles` is the
 * worker's `SpecPlatform.openLayerFiles`: it creates both files empty when missing, so a
 * `persistent-layer` spec with a new name makes a new layer.
 *
 * Promises
 * - List: every layer with the bytes its two files use, and whether a stack here has it open.
 * - Delete and reset refuse a layer a stack in this worker has open (LOCKED: close the stack, or
 *   remove the layer from it, first); another tab's handle fails LOCKED from the browser itself.
 *   Reset empties the layer (both files go; the next open makes it anew at the size of the disk
 *   below), so the image under it reads as it did before any write to the layer.
 * - Rename moves the file(s) with `FileSystemHandle.move` and refuses an existing target name.
 * - A simulated quota (test-only, `setSimulatedQuota`) makes files opened through
 *   `openLabFile`/`openLayerFiles` throw QUOTA once a write would take the lab's files past
 *   the given bytes: a real QuotaExceededError cannot be forced in a test browser, so this stands
 *   in for it at the same place (the SyncFile) the real one surfaces.
 *
 * Errors: DiskConfigError('INVALID_PARAMETER', 'name') for bad or taken names; opfs-sync-file.ts
 * DiskErrors (LOCKED, QUOTA, IO) for storage failures.
 */
import type { LayerEntry } from '../storage-api.ts';
import { DiskConfigError, DiskError } from '../../src/core/disk/errors.ts';
import { checkLayerName } from '../../src/core/layered/open-persistent-layer.ts';
import type { PersistentLayerFiles } from '../../src/core/layered/persistent-layer.ts';
import type { SyncFile } from '../../src/core/ports/sync-file.ts';
import { checkImageName, imagePath } from './opfs-images.ts';
import { LAB_FOLDER, OpfsSyncFile, isOpenHere, opfsError } from './opfs-sync-file.ts';

export const LAYER_FOLDER = `${LAB_FOLDER}/layers`;

export function layerPaths(name: string): { data: string; meta: string } {
  return { data: `${LAYER_FOLDER}/${name}.data`, meta: `${LAYER_FOLDER}/${name}.meta` };
}

let simulatedQuota: number | undefined;
let simulatedUsed = 0;

/** Test-only: a byte budget for files the lab writes from now on (undefined: none). See the module doc. */
export function setSimulatedQuota(bytes: number | undefined): void {
  simulatedQuota = bytes;
  simulatedUsed = 0;
}

/** A SyncFile that charges growth against the simulated quota, failing QUOTA before writing past it. */
class QuotaFile implements SyncFile {
  constructor(private readonly inner: OpfsSyncFile) {}
  size(): number {
    return this.inner.size();
  }
  read(offset: number, into: Uint8Array): void {
    this.inner.read(offset, into);
  }
  write(offset: number, data: Uint8Array): void {
    this.#charge(offset + data.length);
    this.inner.write(offset, data);
  }
  truncate(size: number): void {
    this.#charge(size);
    this.inner.truncate(size);
  }
  flush(): void {
    this.inner.flush();
  }
  close(): void {
    this.inner.close();
  }
  #charge(end: number): void {
    const grow = Math.max(0, end - this.inner.size());
    if (simulatedQuota !== undefined && grow > 0) {
      if (simulatedUsed + grow > simulatedQuota) {
        throw new DiskError('QUOTA', `${this.inner.path}: the storage quota for this site is full (simulated quota of ${simulatedQuota} bytes)`);
      }
      simulatedUsed += grow;
    }
  }
}

/** Opens (or creates) a lab file by path from the OPFS root, under the simulated quota when one is set. */
export async function openLabFile(path: string, options: { readonly readOnly?: boolean; readonly create?: boolean }): Promise<SyncFile> {
  const file = await OpfsSyncFile.open(path, options);
  return simulatedQuota === undefined || options.readOnly ? file : new QuotaFile(file);
}

export async function openLayerFiles(name: string, { readOnly }: { readonly readOnly: boolean }): Promise<PersistentLayerFiles> {
  checkLayerName(name);
  const paths = layerPaths(name);
  const data = await openLabFile(paths.data, { readOnly, create: !readOnly });
  try {
    const meta = await openLabFile(paths.meta, { readOnly, create: !readOnly });
    return { data, meta };
  } catch (e) {
    data.close();
    throw e;
  }
}

async function folder(path: string): Promise<FileSystemDirectoryHandle> {
  try {
    let dir = await navigator.storage.getDirectory();
    for (const part of path.split('/')) dir = await dir.getDirectoryHandle(part, { create: true });
    return dir;
  } catch (e) {
    throw opfsError(e, path, 'opening the folder');
  }
}

async function fileSize(dir: FileSystemDirectoryHandle, name: string): Promise<number> {
  try {
    return (await (await dir.getFileHandle(name)).getFile()).size;
  } catch {
    return 0; // held by a sync handle in another tab, or missing: size unknown
  }
}

export async function listLayers(): Promise<LayerEntry[]> {
  const dir = await folder(LAYER_FOLDER);
  const names = new Set<string>();
  const entries = dir as unknown as { keys(): AsyncIterable<string> };
  for await (const key of entries.keys()) {
    const m = /^(.*)\.(data|meta)$/.exec(key);
    if (m?.[1]) names.add(m[1]);
  }
  const out: LayerEntry[] = [];
  for (const name of [...names].sort((a, b) => a.localeCompare(b))) {
    const p = layerPaths(name);
    const open = isOpenHere(p.data) || isOpenHere(p.meta);
    const sizeBytes = (await fileSize(dir, `${name}.data`)) + (await fileSize(dir, `${name}.meta`));
    out.push({ name, sizeBytes, open });
  }
  return out;
}

function refuseOpen(name: string, doing: string): void {
  const p = layerPaths(name);
  if (isOpenHere(p.data) || isOpenHere(p.meta)) {
    throw new DiskError('LOCKED', `persistent layer '${name}' is open in a stack: close the stack before ${doing} it`);
  }
}

async function remove(dir: FileSystemDirectoryHandle, name: string, path: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch (e) {
    if (e instanceof Error && e.name === 'NotFoundError') return;
    throw opfsError(e, path, 'deleting');
  }
}

export async function deleteLayer(name: string): Promise<void> {
  checkLayerName(name);
  refuseOpen(name, 'deleting');
  const dir = await folder(LAYER_FOLDER);
  const p = layerPaths(name);
  // Meta first: a layer without meta is simply new, whereas data without meta is harmless too.
  await remove(dir, `${name}.meta`, p.meta);
  await remove(dir, `${name}.data`, p.data);
}

/** Empties the layer: see the module doc. */
export async function resetLayer(name: string): Promise<void> {
  checkLayerName(name);
  refuseOpen(name, 'resetting');
  await deleteLayer(name);
}

type Movable = FileSystemFileHandle & { move?(name: string): Promise<void> };

async function move(dir: FileSystemDirectoryHandle, from: string, to: string, path: string): Promise<void> {
  let handle: Movable;
  try {
    handle = (await dir.getFileHandle(from)) as Movable;
  } catch (e) {
    throw opfsError(e, path, 'renaming');
  }
  if (typeof handle.move !== 'function') throw new DiskError('UNSUPPORTED', 'this browser cannot rename files in the origin private file system');
  try {
    await handle.move(to);
  } catch (e) {
    throw opfsError(e, path, 'renaming');
  }
}

async function taken(dir: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  try {
    await dir.getFileHandle(name);
    return true;
  } catch {
    return false;
  }
}

export async function renameLayer(from: string, to: string): Promise<void> {
  checkLayerName(from);
  checkLayerName(to);
  refuseOpen(from, 'renaming');
  const dir = await folder(LAYER_FOLDER);
  if ((await taken(dir, `${to}.meta`)) || (await taken(dir, `${to}.data`))) {
    throw new DiskConfigError('INVALID_PARAMETER', 'name', `a layer named '${to}' already exists`, { value: to });
  }
  await move(dir, `${from}.data`, `${to}.data`, layerPaths(from).data);
  await move(dir, `${from}.meta`, `${to}.meta`, layerPaths(from).meta);
}

export async function renameImage(from: string, to: string): Promise<void> {
  checkImageName(from);
  checkImageName(to);
  if (isOpenHere(imagePath(from))) throw new DiskError('LOCKED', `${imagePath(from)} is open in a stack: close the stack before renaming the image`);
  const dir = await folder(LAB_FOLDER);
  if (await taken(dir, to)) throw new DiskConfigError('INVALID_PARAMETER', 'name', `an image named '${to}' already exists`, { value: to });
  await move(dir, from, to, imagePath(from));
}

/** A new, empty image file `disklab/<name>` for a job's output (refused if the name is taken), under the simulated quota. */
export async function createLabImage(name: string): Promise<{ file: SyncFile; path: string }> {
  checkImageName(name);
  const dir = await folder(LAB_FOLDER);
  if (await taken(dir, name)) throw new DiskConfigError('INVALID_PARAMETER', 'name', `an image named '${name}' already exists: choose another name`, { value: name });
  const path = imagePath(name);
  return { file: await openLabFile(path, { create: true }), path };
}

/** Deletes a job's partial output (best effort: the job's own failure is what the caller reports). */
export async function removeLabImage(name: string): Promise<void> {
  try {
    await (await folder(LAB_FOLDER)).removeEntry(name);
  } catch {
    // Nothing to add to the failure being reported.
  }
}
