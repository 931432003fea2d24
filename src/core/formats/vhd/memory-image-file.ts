/**
 * `MemoryImageFile`: an ImageFile held in a growable Uint8Array, for tests and for building small
 * images in memory. It also records every write and flush in `log`, so tests can check crash
 * ordering (which bytes were made durable before which metadata pointed at them).
 * Errors: reads past the end are CORRUPT_IMAGE (as every ImageFile), writes to a read-only one READ_ONLY.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';

export type ImageFileEvent = { readonly op: 'write'; readonly offset: number; readonly length: number } | { readonly op: 'flush' };

export class MemoryImageFile implements ImageFile {
  readonly name: string;
  readonly writable: boolean;
  readonly log: ImageFileEvent[] = [];
  #bytes: Uint8Array;
  #size: number;

  constructor(name: string, bytes: Uint8Array = new Uint8Array(0), writable = true) {
    this.name = name;
    this.writable = writable;
    this.#bytes = bytes.slice();
    this.#size = bytes.length;
  }

  /** A copy of the current contents. */
  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.#size);
  }

  size(): number {
    return this.#size;
  }

  async read(offset: number, into: Uint8Array, field = 'data'): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > this.#size) {
      throw new DiskError('CORRUPT_IMAGE', `${this.name}: ${field} at offset ${offset} (+${into.length} bytes) lies outside the ${this.#size}-byte file`, { field });
    }
    into.set(this.#bytes.subarray(offset, offset + into.length));
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('READ_ONLY', `${this.name} is read-only`);
    this.#ensure(offset + data.length);
    this.#bytes.set(data, offset);
    this.#size = Math.max(this.#size, offset + data.length);
    this.log.push({ op: 'write', offset, length: data.length });
  }

  async truncate(size: number): Promise<void> {
    this.#ensure(size);
    this.#bytes.fill(0, size);
    this.#size = size;
  }

  async flush(): Promise<void> {
    this.log.push({ op: 'flush' });
  }

  async close(): Promise<void> {}

  #ensure(size: number): void {
    if (size <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(size, this.#bytes.length * 2));
    grown.set(this.#bytes);
    this.#bytes = grown;
  }
}
