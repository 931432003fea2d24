/**
 * DiskRangeSource: a `RangeSource` of `size` bytes read from a Disk, for opening an image format
 * on top of a stack of layers (a URL object under its persistent read cache).
 *
 * Promises: `read(offset, length)` resolves with exactly those bytes, read as whole sectors (a
 * read that is not sector-aligned reads the covering sectors and copies out the part asked for);
 * the disk may be up to one sector longer than `size` (a partial last sector). Identity and name
 * are the given ones. `close` closes the disk.
 *
 * Errors: OUT_OF_RANGE for a read outside [0, size); the disk's DiskErrors pass through.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import type { RangeSource } from '../ports/range-source.ts';

export class DiskRangeSource implements RangeSource {
  readonly size: number;
  readonly identity: string | undefined;
  readonly name: string;
  readonly #disk: Disk;

  constructor(disk: Disk, options: { readonly size: number; readonly name: string; readonly identity: string | undefined }) {
    this.#disk = disk;
    this.size = options.size;
    this.name = options.name;
    this.identity = options.identity;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.readInto(offset, out);
    return out;
  }

  async readInto(offset: number, into: Uint8Array): Promise<void> {
    const length = into.length;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.size) {
      throw new DiskError('OUT_OF_RANGE', `${this.name}: read of ${length} bytes at ${offset} is outside the ${this.size}-byte object`);
    }
    if (length === 0) return;
    const ss = this.#disk.sectorSize;
    const first = Math.floor(offset / ss);
    const end = Math.ceil((offset + length) / ss);
    if (first * ss === offset && end * ss === offset + length) {
      await this.#disk.read(first, into);
      return;
    }
    const bounce = new Uint8Array((end - first) * ss);
    await this.#disk.read(first, bounce);
    into.set(bounce.subarray(offset - first * ss, offset - first * ss + length));
  }

  async close(): Promise<void> {
    await this.#disk.close();
  }
}
