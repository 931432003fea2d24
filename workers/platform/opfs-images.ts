/**
 * The lab's image library in OPFS: the files in the `disklab/` folder of the origin private file
 * system. List, create (raw or fixed VHD of a size), import a Blob/File, delete.
 *
 * Promises
 * - Names are plain file names (no '/'); the image's path from the OPFS root, for an `opfs`
 *   DiskSpec, is `disklab/<name>` (ImageEntry.path). Creating or importing over an existing name
 *   is refused, never an overwrite.
 * - Import checks the file first (raw or fixed VHD only, via formats/open-source.ts, reading two
 *   sectors), then copies it in bounded chunks (4 MiB: memory stays flat whatever the size),
 *   reporting progress at the start and after each chunk (so at most ~250 reports a second at
 *   1 GB/s; the last one has doneBytes = totalBytes).
 *   On any failure the partial file is removed: a failed import leaves nothing.
 * - Create makes a zeroed image (raw: a sized file; VHD: data + footer via VhdFixedDisk.create);
 *   a failed create leaves nothing either.
 * - Delete refuses an image a stack in this worker has open (LOCKED, "close the stack first");
 *   one open in another tab fails LOCKED from the browser's own lock.
 *
 * Errors: bad names and sizes are DiskConfigError('INVALID_PARAMETER', field 'name'/'size');
 * storage failures are DiskErrors from opfs-sync-file.ts (LOCKED, QUOTA, IO); a file that is
 * not a raw or fixed VHD image fails import with UNSUPPORTED or CORRUPT_IMAGE.
 */
import type { ImageEntry, JobProgress } from '../api.ts';
import { DiskConfigError, DiskError } from '../../src/core/disk/errors.ts';
import { detectFormat } from '../../src/core/formats/detect.ts';
import { detectSourceFormat, openSource } from '../../src/core/formats/open-source.ts';
import { VhdFixedDisk } from '../../src/core/formats/vhd/fixed.ts';
import { BlobRangeSource } from './blob-range-source.ts';
import { LAB_FOLDER, OpfsSyncFile, isOpenHere, openFileHere, opfsError } from './opfs-sync-file.ts';

export const IMPORT_CHUNK_BYTES = 4 * 1024 * 1024;

export function imagePath(name: string): string {
  return `${LAB_FOLDER}/${name}`;
}

export function checkImageName(name: string): void {
  const bad = (why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', 'name', `image name '${name}' ${why}`, { value: name });
  };
  if (typeof name !== 'string' || name.trim() === '') bad('is empty');
  if (name.includes('/') || name.includes('\\') || name.includes('\0')) bad("may not contain '/', '\\' or NUL");
  if (name === '.' || name === '..') bad('is reserved');
  if (name.length > 200) bad('is longer than 200 characters');
}

async function labFolder(): Promise<FileSystemDirectoryHandle> {
  try {
    const root = await navigator.storage.getDirectory();
    return await root.getDirectoryHandle(LAB_FOLDER, { create: true });
  } catch (e) {
    throw opfsError(e, LAB_FOLDER, 'opening the image folder');
  }
}

/** True if anything (a file, or a folder: TypeMismatchError) already has this name. */
async function exists(dir: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  try {
    await dir.getFileHandle(name);
    return true;
  } catch (e) {
    if (e instanceof Error && e.name === 'NotFoundError') return false;
    if (e instanceof Error && e.name === 'TypeMismatchError') return true;
    throw opfsError(e, imagePath(name), 'looking up');
  }
}

async function refuseExisting(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  if (await exists(dir, name)) {
    throw new DiskConfigError('INVALID_PARAMETER', 'name', `an image named '${name}' already exists: delete it first or choose another name`, { value: name });
  }
}

async function removeQuietly(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch {
    // Best effort: the caller is already reporting the failure that made this necessary.
  }
}

export async function listImages(): Promise<ImageEntry[]> {
  const dir = await labFolder();
  const out: ImageEntry[] = [];
  const entries = dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> };
  for await (const [name, handle] of entries.entries()) {
    if (handle.kind !== 'file') continue;
    out.push(await describeImage(name, handle as FileSystemFileHandle));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function describeImage(name: string, handle: FileSystemFileHandle): Promise<ImageEntry> {
  const path = imagePath(name);
  // A file this worker holds open is read through its handle; otherwise through a File snapshot.
  const open = openFileHere(path);
  if (open) {
    const format = detectFormat(open, path).format === 'vhd' ? 'vhd' : 'raw';
    return { name, path, sizeBytes: open.size(), format };
  }
  try {
    const file = await handle.getFile();
    const format = (await detectSourceFormat(new BlobRangeSource(file, path))).format === 'vhd' ? 'vhd' : 'raw';
    return { name, path, sizeBytes: file.size, format };
  } catch {
    // Held by another tab: list it with what is known rather than hide it.
    return { name, path, sizeBytes: 0, format: name.toLowerCase().endsWith('.vhd') ? 'vhd' : 'raw' };
  }
}

export async function createImage(name: string, sizeBytes: number, format: 'raw' | 'vhd'): Promise<ImageEntry> {
  checkImageName(name);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 512 !== 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `image size ${sizeBytes} must be a positive multiple of 512 bytes`, { value: sizeBytes });
  }
  if (format !== 'raw' && format !== 'vhd') {
    throw new DiskConfigError('UNSUPPORTED_FORMAT', 'format', `cannot create a '${String(format)}' image (raw or vhd)`, { value: format });
  }
  const dir = await labFolder();
  await refuseExisting(dir, name);
  const path = imagePath(name);
  let file: OpfsSyncFile | undefined;
  try {
    file = await OpfsSyncFile.open(path, { create: true });
    if (format === 'vhd') VhdFixedDisk.create(file, sizeBytes, { name: path });
    else {
      file.truncate(sizeBytes);
      file.flush();
    }
    const size = file.size();
    file.close();
    return { name, path, sizeBytes: size, format };
  } catch (e) {
    closeQuietly(file);
    await removeQuietly(dir, name);
    throw opfsError(e, path, 'creating');
  }
}

export async function importImage(blob: Blob, name: string, onProgress?: (p: JobProgress) => unknown): Promise<ImageEntry> {
  checkImageName(name);
  const dir = await labFolder();
  await refuseExisting(dir, name);
  const path = imagePath(name);
  // Refuse what the lab could not open before copying gigabytes of it.
  const opened = await openSource(new BlobRangeSource(blob, blob instanceof File ? blob.name : name));
  await opened.disk.close();
  const format = opened.format;
  if (format === 'vhdx' || format === 'qcow2' || (format === 'vhd' && opened.subformat !== 'fixed')) {
    // OPFS images open through the flat-file path (raw, fixed VHD); others open in place, read-only.
    throw new DiskError('UNSUPPORTED', `${name}: only raw and fixed VHD images can be imported into OPFS yet; open this ${opened.subformat ?? ''} ${format} image directly instead (it opens read-only under a RAM diff)`);
  }
  const total = blob.size;
  const started = performance.now();
  const report = (done: number): void => {
    if (!onProgress) return;
    const now = performance.now();
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const progress: JobProgress = { doneBytes: done, totalBytes: total, bytesPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : undefined };
    // A progress callback is a Comlink proxy: its promise is not awaited, so a slow page never slows the copy.
    void Promise.resolve()
      .then(() => onProgress(progress))
      .catch(() => undefined);
  };
  let file: OpfsSyncFile | undefined;
  try {
    file = await OpfsSyncFile.open(path, { create: true });
    report(0);
    for (let at = 0; at < total; ) {
      const end = Math.min(total, at + IMPORT_CHUNK_BYTES);
      const chunk = new Uint8Array(await blob.slice(at, end).arrayBuffer());
      if (chunk.length !== end - at) throw new DiskError('NETWORK', `${name}: the file changed while it was being imported`);
      file.write(at, chunk);
      at = end;
      report(at);
    }
    file.flush();
    file.close();
    return { name, path, sizeBytes: total, format };
  } catch (e) {
    closeQuietly(file);
    await removeQuietly(dir, name);
    throw opfsError(e, path, 'importing');
  }
}

export async function deleteImage(name: string): Promise<void> {
  checkImageName(name);
  const path = imagePath(name);
  if (isOpenHere(path)) throw new DiskError('LOCKED', `${path} is open in a stack: close the stack before deleting the image`);
  const dir = await labFolder();
  try {
    await dir.removeEntry(name);
  } catch (e) {
    throw opfsError(e, path, 'deleting');
  }
}

function closeQuietly(file: OpfsSyncFile | undefined): void {
  try {
    file?.close();
  } catch {
    // Already failing; the handle is released either way.
  }
}
