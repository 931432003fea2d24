/**
 * `ImageFile`: the bytes of an image file as the structured-format readers (dynamic and
 * differencing VHD, VHDX, qcow2) see them, whatever holds them: a SyncFile (OPFS, node:fs) or a
 * RangeSource (a user's File, an HTTP object). Async because a RangeSource is.
 *
 * Promises
 * - `size()` is the file's current length; `read` fills `into` exactly from `offset` and rejects
 *   with `CORRUPT_IMAGE` (naming `field`) if any of it lies past the end: a reader that follows a
 *   hostile offset gets a typed error, never invented zeroes.
 * - `write`, `truncate` and `flush` exist only when `writable`; writes may extend the file.
 * Errors: the underlying port's failures arrive as DiskErrors (IO, NETWORK, LOCKED, QUOTA).
 */
import { DiskError, asDiskError } from '../disk/errors.ts';
import type { RangeSource } from '../ports/range-source.ts';
import type { SyncFile } from '../ports/sync-file.ts';

export interface ImageFile {
  readonly name: string;
  readonly writable: boolean;
  size(): number;
  /** Reads `into.length` bytes at `offset`; `field` names what is being read, for the error. */
  read(offset: number, into: Uint8Array, field?: string): Promise<void>;
  write?(offset: number, data: Uint8Array): Promise<void>;
  truncate?(size: number): Promise<void>;
  flush?(): Promise<void>;
  close(): Promise<void>;
}

function checkInside(name: string, size: number, offset: number, length: number, field: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > size) {
    throw new DiskError('CORRUPT_IMAGE', `${name}: ${field} at offset ${offset} (+${length} bytes) lies outside the ${size}-byte file`, { field });
  }
}

export function imageFileFromSync(file: SyncFile, options: { readonly name: string; readonly writable: boolean }): ImageFile {
  const { name, writable } = options;
  const io = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw asDiskError(e, `${name}: ${what}`);
    }
  };
  const image: ImageFile = {
    name,
    writable,
    size: () => io('size', () => file.size()),
    async read(offset, into, field = 'data') {
      checkInside(name, image.size(), offset, into.length, field);
      io(`read of ${field}`, () => file.read(offset, into));
    },
    async close() {
      io('close', () => file.close());
    },
  };
  if (!writable) return image;
  return {
    ...image,
    async write(offset, data) {
      io('write', () => file.write(offset, data));
    },
    async truncate(size) {
      io('truncate', () => file.truncate(size));
    },
    async flush() {
      io('flush', () => file.flush());
    },
  };
}

export function imageFileFromRange(source: RangeSource): ImageFile {
  return {
    name: source.name,
    writable: false,
    size: () => source.size,
    async read(offset, into, field = 'data') {
      checkInside(source.name, source.size, offset, into.length, field);
      if (into.length === 0) return;
      if (source.readInto !== undefined) await source.readInto(offset, into);
      else into.set(await source.read(offset, into.length));
    },
    close: () => source.close(),
  };
}
