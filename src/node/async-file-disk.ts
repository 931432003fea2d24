/**
 * AsyncFileDisk: a flat, writable disk over a local file through `fs.promises`, for the CLI's
 * bulk writers. Unlike FileDisk (over the synchronous SyncFile port, one call at a time), its
 * reads and writes run on libuv's thread pool, so several in flight overlap in the kernel the way
 * qemu-img's parallel requests do; `disklab convert -O raw` keeps a few writes in flight with it.
 *
 * Sector n lives at byte n * 512; the size is fixed at open (the file's whole sectors). Writes
 * that overlap must not be in flight together (the caller's rule, as for any disk). `unmap` is
 * ignored (no hole punching, as FileDisk). Errors: OUT_OF_RANGE from the range check; ENOSPC and
 * EDQUOT are QUOTA; anything else from the file system is IO naming the file and operation.
 */
import * as fs from 'node:fs';
import type { Disk, UnmapBehavior, WriteOptions } from '../core/disk/disk.ts';
import { DiskError } from '../core/disk/errors.ts';
import { checkRange } from '../core/disk/range.ts';

const SECTOR = 512;

export class AsyncFileDisk implements Disk {
  readonly diskType = 'file';
  readonly sectorSize = SECTOR;
  readonly physicalSectorSize = SECTOR;
  readonly readOnly: boolean;
  readonly diskId = undefined;
  readonly fuaRespected = true;
  readonly unmapBehavior: UnmapBehavior = 'ignored';
  readonly optimalUnmapSectors = 1;
  readonly #handle: fs.promises.FileHandle;
  readonly #sectors: number;
  readonly #path: string;
  #closed = false;

  private constructor(handle: fs.promises.FileHandle, sectors: number, path: string, readOnly: boolean) {
    this.readOnly = readOnly;
    this.#handle = handle;
    this.#sectors = sectors;
    this.#path = path;
  }

  /** Opens an existing file (read-write unless asked); its whole sectors are the disk. */
  static async open(path: string, options: { readonly readOnly?: boolean } = {}): Promise<AsyncFileDisk> {
    const readOnly = options.readOnly ?? false;
    const handle = await AsyncFileDisk.#call(path, 'open', () => fs.promises.open(path, readOnly ? 'r' : 'r+'));
    const { size } = await handle.stat();
    return new AsyncFileDisk(handle, Math.floor(size / SECTOR), path, readOnly);
  }

  sectorCount(): number {
    return this.#sectors;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    checkRange('read', lba, buf.length / SECTOR, this.#sectors);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await AsyncFileDisk.#call(this.#path, `read at LBA ${lba}`, () => this.#handle.read(buf, done, buf.length - done, lba * SECTOR + done));
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    buf.fill(0, done);
  }

  async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    checkRange('write', lba, data.length / SECTOR, this.#sectors);
    if (this.readOnly) throw new DiskError('READ_ONLY', `${this.#path}: opened read-only`, { lba });
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await AsyncFileDisk.#call(this.#path, `write at LBA ${lba}`, () => this.#handle.write(data, done, data.length - done, lba * SECTOR + done));
      done += bytesWritten;
    }
    if (options?.fua) await this.flush();
  }

  async flush(): Promise<void> {
    await AsyncFileDisk.#call(this.#path, 'flush', () => this.#handle.datasync());
  }

  async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.#sectors);
    if (this.readOnly) throw new DiskError('READ_ONLY', `${this.#path}: opened read-only`, { lba });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await AsyncFileDisk.#call(this.#path, 'close', () => this.#handle.close());
  }

  static async #call<T>(path: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      const kind = code === 'ENOSPC' || code === 'EDQUOT' ? 'QUOTA' : 'IO';
      throw new DiskError(kind, `${path}: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}
