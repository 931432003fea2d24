/**
 * The SyncFile port over OPFS: a `FileSystemSyncAccessHandle`, which exists only in dedicated
 * workers and locks its file for as long as it is open.
 *
 * Locking: a writable handle is exclusive ('readwrite' mode); a read-only open uses 'read-only'
 * mode, which other read-only handles may share. When another handle (another tab of the lab, or
 * a stack in this worker) holds the file, the browser refuses at once with
 * NoModificationAllowedError: that becomes DiskError('LOCKED') telling the user the image is open
 * elsewhere. It never waits, so a second tab gets a message, not a hang.
 *
 * Errors: every failure is a DiskError: LOCKED as above; QUOTA when the origin's storage is full
 * (QuotaExceededError, or a short write); IO for a missing file or anything else, with the
 * browser's message. `read` zero-fills past the end of the file, as the port promises.
 */
import { DiskError, type DiskErrorCode } from '../../src/core/disk/errors.ts';
import type { SyncFile } from '../../src/core/ports/sync-file.ts';

/** The lab's folder in the OPFS root; image paths in specs start with it ("disklab/a.vhd"). */
export const LAB_FOLDER = 'disklab';

/** Handles this worker holds open, by path from the OPFS root (deleting an open image is refused). */
const openHandles = new Map<string, Set<OpfsSyncFile>>();

export function isOpenHere(path: string): boolean {
  return (openHandles.get(normalisePath(path))?.size ?? 0) > 0;
}

/** One of this worker's open handles on `path`, if any (to read its size while it is locked). */
export function openFileHere(path: string): OpfsSyncFile | undefined {
  return openHandles.get(normalisePath(path))?.values().next().value;
}

/** Maps a DOMException (or anything thrown by OPFS) to the DiskError the lab shows. */
export function opfsError(e: unknown, path: string, doing: string): DiskError {
  if (e instanceof DiskError) return e;
  const name = e instanceof Error ? e.name : '';
  const detail = e instanceof Error ? e.message : String(e);
  const as = (code: DiskErrorCode, message: string) => new DiskError(code, message, { cause: e });
  switch (name) {
    case 'NoModificationAllowedError':
      return as('LOCKED', `${path} is open elsewhere (another tab or window of Disk Lab, or another stack here): close it there and try again`);
    case 'QuotaExceededError':
      return as('QUOTA', `${path}: the browser's storage quota for this site is full while ${doing}; delete images to make room`);
    case 'NotFoundError':
      return as('IO', `${path}: no such image (${detail})`);
    default:
      return as('IO', `${path}: ${doing} failed: ${detail}`);
  }
}

export function normalisePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) {
    throw new DiskError('INVALID_INPUT', `'${path}' is not a file path inside the origin private file system`);
  }
  return parts.join('/');
}

/** The directory holding `path` (created when `create`), and the file's own name. */
export async function parentOf(path: string, create: boolean): Promise<{ dir: FileSystemDirectoryHandle; name: string }> {
  const parts = normalisePath(path).split('/');
  const name = parts.pop()!;
  let dir = await navigator.storage.getDirectory();
  for (const part of parts) dir = await dir.getDirectoryHandle(part, { create });
  return { dir, name };
}

type HandleMode = 'readwrite' | 'read-only';

export class OpfsSyncFile implements SyncFile {
  readonly path: string;
  readonly readOnly: boolean;
  readonly #handle: FileSystemSyncAccessHandle;
  #closed = false;

  private constructor(path: string, handle: FileSystemSyncAccessHandle, readOnly: boolean) {
    this.path = path;
    this.#handle = handle;
    this.readOnly = readOnly;
  }

  /** Opens an existing file (or creates it when `create`) by path from the OPFS root. */
  static async open(path: string, options: { readonly readOnly?: boolean; readonly create?: boolean } = {}): Promise<OpfsSyncFile> {
    const at = normalisePath(path);
    const readOnly = options.readOnly ?? false;
    let handle: FileSystemSyncAccessHandle;
    try {
      const { dir, name } = await parentOf(at, options.create ?? false);
      const file = await dir.getFileHandle(name, { create: options.create ?? false });
      // `mode` is in Chromium (121+) and the spec, not yet in TypeScript's lib.
      const open = file.createSyncAccessHandle as unknown as (o?: { mode: HandleMode }) => Promise<FileSystemSyncAccessHandle>;
      handle = await open.call(file, { mode: readOnly ? 'read-only' : 'readwrite' });
    } catch (e) {
      throw opfsError(e, at, 'opening');
    }
    const opened = new OpfsSyncFile(at, handle, readOnly);
    const set = openHandles.get(at) ?? new Set<OpfsSyncFile>();
    set.add(opened);
    openHandles.set(at, set);
    return opened;
  }

  size(): number {
    return this.#do('reading the size', () => this.#handle.getSize());
  }

  read(offset: number, into: Uint8Array): void {
    const n = this.#do('reading', () => this.#handle.read(into, { at: offset }));
    if (n < into.length) into.fill(0, n);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new DiskError('READ_ONLY', `${this.path} is open read-only`);
    // The handle may refuse views of shared memory (a controller's guest memory): copy those.
    const bytes = data.buffer instanceof ArrayBuffer ? data : data.slice();
    const n = this.#do('writing', () => this.#handle.write(bytes as Uint8Array<ArrayBuffer>, { at: offset }));
    if (n !== data.length) throw new DiskError('QUOTA', `${this.path}: wrote ${n} of ${data.length} bytes at ${offset}; storage is probably full`);
  }

  truncate(size: number): void {
    if (this.readOnly) throw new DiskError('READ_ONLY', `${this.path} is open read-only`);
    this.#do('resizing', () => this.#handle.truncate(size));
  }

  flush(): void {
    if (this.readOnly) return;
    this.#do('flushing', () => this.#handle.flush());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const set = openHandles.get(this.path);
    set?.delete(this);
    if (set?.size === 0) openHandles.delete(this.path);
    this.#do('closing', () => this.#handle.close());
  }

  #do<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw opfsError(e, this.path, doing);
    }
  }
}
