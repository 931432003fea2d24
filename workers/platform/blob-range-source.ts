/**
 * The RangeSource port over a Blob or File (a user's dropped or picked file, or a fetched one):
 * each read is `blob.slice(start, end).arrayBuffer()`, so only the bytes asked for are ever in
 * memory, never the whole file.
 *
 * Identity: a File's name, size and lastModified; a plain Blob has none. A File whose content
 * changes on disk after it was picked makes the browser fail the read (NotReadableError): that
 * is DiskError('NETWORK'), the port's code for "the object changed or went away", with a message
 * telling the user to pick the file again.
 *
 * Errors: OUT_OF_RANGE for a range past the end; NETWORK as above; IO for anything else.
 */
import { DiskError } from '../../src/core/disk/errors.ts';
import type { RangeSource } from '../../src/core/ports/range-source.ts';

export class BlobRangeSource implements RangeSource {
  readonly size: number;
  readonly identity: string | undefined;
  readonly name: string;
  readonly #blob: Blob;
  #closed = false;

  constructor(blob: Blob, name: string) {
    this.#blob = blob;
    this.size = blob.size;
    this.name = name;
    this.identity = blob instanceof File ? `${blob.name}:${blob.size}:${blob.lastModified}` : undefined;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.#closed) throw new DiskError('ABORTED', `${this.name}: read after close`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new DiskError('OUT_OF_RANGE', `${this.name}: read of ${length} bytes at ${offset} is outside the ${this.size}-byte file`);
    }
    if (length === 0) return new Uint8Array(0);
    let bytes: ArrayBuffer;
    try {
      bytes = await this.#blob.slice(offset, offset + length).arrayBuffer();
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      const detail = e instanceof Error ? e.message : String(e);
      if (name === 'NotReadableError' || name === 'NotFoundError') {
        throw new DiskError('NETWORK', `${this.name} can no longer be read (changed, moved or deleted since it was opened): open it again (${detail})`, { cause: e });
      }
      throw new DiskError('IO', `${this.name}: reading ${length} bytes at ${offset} failed: ${detail}`, { cause: e });
    }
    if (bytes.byteLength !== length) {
      throw new DiskError('NETWORK', `${this.name}: got ${bytes.byteLength} of ${length} bytes at ${offset}; the file changed since it was opened`);
    }
    return new Uint8Array(bytes);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
