/**
 * `SyncFile`: a random-access file the core can read and write synchronously.
 *
 * Implemented by OPFS's `FileSystemSyncAccessHandle` in a worker and by `node:fs` in Node. It is
 * synchronous because the OPFS handle is, and a synchronous port keeps FileDisk free of promise
 * overhead per sector. Promises: `read` fills the whole view or throws (reading past the end
 * returns the bytes that exist and zero-fills the rest, like a sparse file); `write` writes all of
 * it, extending the file if needed; `flush` makes completed writes durable. Errors are thrown as
 * anything; FileDisk wraps them into DiskErrors (a locked file should throw `DiskError('LOCKED')`).
 */
export interface SyncFile {
  size(): number;
  read(offset: number, into: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
