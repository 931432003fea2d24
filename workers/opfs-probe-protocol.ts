/**
 * The one message the OPFS probe worker posts back: whether a dedicated worker on this page can
 * open an OPFS `FileSystemSyncAccessHandle` and use it the way the core's `SyncFile` port will
 * (positional write and read, size, truncate, flush, close). Type-only, so the page can import it
 * with `import type` and no worker code reaches the main thread's bundle.
 *
 * A failure names the step that failed and the DOMException name (e.g. `NoModificationAllowedError`
 * when the file is locked, `SecurityError` when storage is blocked), so the page can say why.
 */

export type OpfsProbeStep =
  | 'get-directory'
  | 'create-file'
  | 'open-sync-handle'
  | 'write'
  | 'flush'
  | 'size'
  | 'read'
  | 'verify'
  | 'truncate'
  | 'close'
  | 'remove';

export type OpfsProbeResult =
  | {
      readonly ok: true;
      /** Bytes written and read back through the handle. */
      readonly bytesVerified: number;
      /** Wall time of the whole probe in milliseconds, from the worker's clock. */
      readonly elapsedMs: number;
    }
  | {
      readonly ok: false;
      readonly step: OpfsProbeStep;
      /** The thrown error's `name` (a DOMException name in browsers), or `Error`. */
      readonly errorName: string;
      readonly message: string;
    };
