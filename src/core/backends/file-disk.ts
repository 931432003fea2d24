/**
 * FileDisk: a flat disk over a `SyncFile` (an OPFS sync access handle, or a file in Node).
 * Sector n lives at byte n * sectorSize. The disk's size is fixed at open (by default the file's
 * size rounded down to whole sectors, so a trailing partial sector is never readable) and can be
 * changed with `resize`, which truncates or extends the file.
 *
 * unmapBehavior is `ignored`: the SyncFile port has no hole punching, and writing zeroes would
 * turn a cheap hint into a full-size write.
 */
import type { Disk, UnmapBehavior, WriteOptions } from '../disk/disk.ts';
import { DiskConfigError, asDiskError } from '../disk/errors.ts';
import { checkRange, isPowerOfTwo } from '../disk/range.ts';
import type { SyncFile } from '../ports/sync-file.ts';

export interface FileDiskOptions {
  readonly sectorSize?: number;
  readonly physicalSectorSize?: number;
  readonly readOnly?: boolean;
  /** Sectors exposed; default: the whole sectors in the file. */
  readonly sectors?: number;
  /** For messages: the file's name or path. */
  readonly name?: string;
}

export class FileDisk implements Disk {
  readonly diskType: string = 'file';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly diskId = undefined;
  readonly fuaRespected = true;
  readonly unmapBehavior: UnmapBehavior = 'ignored';
  readonly optimalUnmapSectors = 1;
  readonly name: string;
  readonly #file: SyncFile;
  #sectors: number;
  #closed = false;

  constructor(file: SyncFile, options: FileDiskOptions = {}) {
    this.#file = file;
    this.sectorSize = options.sectorSize ?? 512;
    this.physicalSectorSize = options.physicalSectorSize ?? this.sectorSize;
    this.name = options.name ?? 'file';
    if (!isPowerOfTwo(this.sectorSize) || this.sectorSize < 512) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectorSize', `sector size ${this.sectorSize} is not a power of two >= 512`, { value: this.sectorSize });
    }
    this.readOnly = options.readOnly ?? false;
    this.#sectors = options.sectors ?? Math.floor(file.size() / this.sectorSize);
    if (!Number.isSafeInteger(this.#sectors) || this.#sectors < 0) {
      throw new DiskConfigError('INVALID_PARAMETER', 'sectors', `sector count ${this.#sectors} is not a non-negative integer`, { value: this.#sectors });
    }
  }

  sectorCount(): number {
    return this.#sectors;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    checkRange('read', lba, buf.length / this.sectorSize, this.#sectors);
    this.#io(`read at LBA ${lba}`, () => this.#file.read(lba * this.sectorSize, buf));
  }

  async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    checkRange('write', lba, data.length / this.sectorSize, this.#sectors);
    this.#io(`write at LBA ${lba}`, () => {
      this.#file.write(lba * this.sectorSize, data);
      if (options?.fua) this.#file.flush();
    });
  }

  async flush(): Promise<void> {
    this.#io('flush', () => this.#file.flush());
  }

  async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.#sectors);
  }

  async resize(sectors: number): Promise<void> {
    this.#io('resize', () => this.#file.truncate(sectors * this.sectorSize));
    this.#sectors = sectors;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#io('close', () => this.#file.close());
  }

  #io(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw asDiskError(e, `${this.name}: ${what}`);
    }
  }
}
