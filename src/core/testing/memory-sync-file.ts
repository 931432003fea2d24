/**
 * MemorySyncFile: the one in-memory `SyncFile` test double (for tests that need a plain file, not
 * the crash model of crash-sim-sync-file.ts).
 *
 * Promises, as the port does: `read` zero-fills whatever lies past the end; `write` past the end
 * grows the file (zero-filling any gap); `truncate` shrinks or zero-extends; `flush` does nothing
 * (everything is "durable" at once); `close` only sets `closed`, so a test can check that the code
 * under test closed what it opened (the file stays usable, as several tests reopen by reuse).
 *
 * Where the bytes live:
 * - `{ bytes }`: the given array is used in place, so writes inside it show through to the
 *   caller's array; a write past the end or a `truncate` replaces it with a new array (read the
 *   current contents through `file.bytes`).
 * - `{ store, key }`: the bytes are `store.get(key)` (absent = empty), and every change is stored
 *   back there, so a new MemorySyncFile on the same store and key ("reopen after a reload") sees
 *   the same bytes. Deleting the key empties the file.
 * - neither: a private, initially empty file.
 *
 * Quota: with `quotaBytes`, a write that would end beyond it throws `DiskError('QUOTA')` and
 * changes nothing, as the OPFS port reports `QuotaExceededError`. (`truncate` is not limited.)
 */
import { DiskError } from '../disk/errors.ts';
import type { SyncFile } from '../ports/sync-file.ts';

export interface MemorySyncFileOptions {
  /** Initial contents, used in place (see the module doc). */
  readonly bytes?: Uint8Array;
  /** Keep the contents in `store` under `key`, shared with every file opened on the same key. */
  readonly store?: Map<string, Uint8Array>;
  readonly key?: string;
  /** Writes ending past this many bytes throw DiskError('QUOTA'); default no limit. */
  readonly quotaBytes?: number;
}

export class MemorySyncFile implements SyncFile {
  /** Set by `close()`; nothing else depends on it. */
  closed = false;
  readonly #quota: number;
  readonly #store: Map<string, Uint8Array> | undefined;
  readonly #key: string;
  #own: Uint8Array;

  constructor(options: MemorySyncFileOptions = {}) {
    if ((options.store === undefined) !== (options.key === undefined)) {
      throw new Error('MemorySyncFile: store and key go together');
    }
    if (options.store && options.bytes) throw new Error('MemorySyncFile: give bytes or a store, not both');
    this.#store = options.store;
    this.#key = options.key ?? '';
    this.#own = options.bytes ?? new Uint8Array(0);
    this.#quota = options.quotaBytes ?? Infinity;
  }

  /** The current contents (the live array, not a copy). */
  get bytes(): Uint8Array {
    return this.#store ? (this.#store.get(this.#key) ?? new Uint8Array(0)) : this.#own;
  }

  #set(bytes: Uint8Array): void {
    if (this.#store) this.#store.set(this.#key, bytes);
    else this.#own = bytes;
  }

  size(): number {
    return this.bytes.length;
  }

  read(offset: number, into: Uint8Array): void {
    into.fill(0);
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end > this.#quota) throw new DiskError('QUOTA', 'simulated quota');
    if (end > this.bytes.length) this.truncate(end);
    this.bytes.set(data, offset);
  }

  truncate(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, size));
    this.#set(next);
  }

  flush(): void {}

  close(): void {
    this.closed = true;
  }
}
