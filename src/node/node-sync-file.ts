/**
 * The `SyncFile` port over node:fs: positional reads and writes on a file descriptor.
 * Reads past the end of the file are zero-filled, like a sparse file's holes.
 */
import * as fs from 'node:fs';
import { DiskError } from '../core/disk/errors.ts';
import type { SyncFile } from '../core/ports/sync-file.ts';

export interface NodeSyncFileOptions {
  readonly readOnly?: boolean;
  /** Create the file if it does not exist (and fail if it does). */
  readonly create?: boolean;
}

export class NodeSyncFile implements SyncFile {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string, options: NodeSyncFileOptions = {}) {
    this.path = path;
    const flags = options.create ? 'wx+' : options.readOnly ? 'r' : 'r+';
    try {
      this.#fd = fs.openSync(path, flags);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const kind = code === 'EACCES' || code === 'EPERM' ? 'READ_ONLY' : code === 'EBUSY' ? 'LOCKED' : 'IO';
      throw new DiskError(kind, `cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  size(): number {
    return fs.fstatSync(this.#open()).size;
  }

  read(offset: number, into: Uint8Array): void {
    const fd = this.#open();
    let done = 0;
    while (done < into.length) {
      const n = fs.readSync(fd, into, done, into.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    into.fill(0, done);
  }

  write(offset: number, data: Uint8Array): void {
    const fd = this.#open();
    let done = 0;
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, offset + done);
  }

  truncate(size: number): void {
    fs.ftruncateSync(this.#open(), size);
  }

  flush(): void {
    fs.fdatasyncSync(this.#open());
  }

  close(): void {
    if (this.#fd === undefined) return;
    fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): number {
    if (this.#fd === undefined) throw new DiskError('ABORTED', `${this.path} is closed`);
    return this.#fd;
  }
}
