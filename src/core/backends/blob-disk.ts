/**
 * BlobDisk: a read-only disk over a `RangeSource` (a user's local File, any Blob, later an HTTP
 * object), like OpenVMM's disk_blob. Each read fetches exactly the byte range it needs, so a
 * multi-gigabyte file is never held in memory.
 *
 * Size: the disk has its own sector count, given by whoever knows the format, so bytes past it
 * are never readable (a fixed VHD's footer sits just beyond `sectors`). The count may exceed the
 * source by less than one sector: a raw image whose size is not a whole number of sectors exposes
 * its partial last sector, the missing tail reading as zeroes (as QEMU does). A count reaching
 * further than that is a construction error, not a surprise at read time.
 *
 * Writes are impossible by construction: `readOnly` is true, and `write`/`unmap` reject with
 * `READ_ONLY` (after the range check, so an out-of-range write is still `OUT_OF_RANGE`). Put a
 * copy-on-write layer on top (LayeredDisk with a RamLayer) to let a guest write. `flush` does
 * nothing. `close` closes the source.
 *
 * Errors: OUT_OF_RANGE from its own range checks; failures of the source keep their DiskError
 * code (`NETWORK` for a changed or unreachable object) and anything else becomes `IO`, with the
 * LBA of the read. Bad construction parameters are DiskConfigErrors naming the field.
 */
import { maxSectorsFor, type Disk } from '../disk/disk.ts';
import { DiskConfigError, DiskError, asDiskError } from '../disk/errors.ts';
import { checkRange, isPowerOfTwo } from '../disk/range.ts';
import type { RangeSource } from '../ports/range-source.ts';

export interface BlobDiskOptions {
  /** Sectors exposed; default: the source's size in sectors, a partial last sector included. */
  readonly sectors?: number;
  readonly sectorSize?: number;
  /** What the disk is, for display ('raw', 'vhd-fixed'); default 'blob'. */
  readonly diskType?: string;
  /** 16 bytes when the format carries an identity (a VHD's unique id). */
  readonly diskId?: Uint8Array;
}

export class BlobDisk implements Disk {
  readonly diskType: string;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly = true;
  readonly diskId: Uint8Array | undefined;
  readonly fuaRespected = false;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly source: RangeSource;
  readonly #sectors: number;

  constructor(source: RangeSource, options: BlobDiskOptions = {}) {
    const bad = (field: string, value: unknown, why: string): never => {
      throw new DiskConfigError('INVALID_PARAMETER', field, `blob disk over ${source.name}: ${field} ${String(value)} ${why}`, { value });
    };
    this.source = source;
    this.sectorSize = options.sectorSize ?? 512;
    if (!isPowerOfTwo(this.sectorSize) || this.sectorSize < 512) bad('sectorSize', this.sectorSize, 'is not a power of two >= 512');
    this.physicalSectorSize = this.sectorSize;
    this.diskType = options.diskType ?? 'blob';
    const sectors = options.sectors ?? Math.ceil(source.size / this.sectorSize);
    if (!Number.isSafeInteger(sectors) || sectors < 0 || sectors > maxSectorsFor(this.sectorSize)) {
      bad('sectors', sectors, 'is not a sector count below 2^53 bytes');
    }
    if (sectors > Math.ceil(source.size / this.sectorSize)) {
      bad('sectors', sectors, `reaches past the end of the ${source.size}-byte source`);
    }
    this.#sectors = sectors;
    if (options.diskId !== undefined && options.diskId.length !== 16) bad('diskId', options.diskId.length, 'is not 16 bytes');
    this.diskId = options.diskId?.slice();
  }

  sectorCount(): number {
    return this.#sectors;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    const count = buf.length / this.sectorSize;
    checkRange('read', lba, count, this.#sectors);
    if (count === 0) return;
    const start = lba * this.sectorSize;
    // Only the partial last sector of a raw image can reach past the source; its tail is zero.
    const end = Math.min(start + buf.length, this.source.size);
    let bytes: Uint8Array;
    try {
      if (this.source.readInto !== undefined) {
        await this.source.readInto(start, buf.subarray(0, end - start));
        buf.fill(0, end - start);
        return;
      }
      bytes = await this.source.read(start, end - start);
    } catch (e) {
      const err = asDiskError(e, `${this.source.name}: read of ${count} sector(s) at LBA ${lba}`);
      throw err.lba === undefined ? new DiskError(err.code, err.message, { lba, field: err.field, cause: err }) : err;
    }
    if (bytes.length !== end - start) {
      throw new DiskError('IO', `${this.source.name}: source returned ${bytes.length} bytes for a ${end - start}-byte range at ${start}`, { lba });
    }
    buf.set(bytes);
    buf.fill(0, end - start);
  }

  async write(lba: number, data: Uint8Array): Promise<void> {
    checkRange('write', lba, data.length / this.sectorSize, this.#sectors);
    throw new DiskError('READ_ONLY', `write: ${this.source.name} is read-only (add a RAM diff layer to write)`, { lba });
  }

  async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.#sectors);
    throw new DiskError('READ_ONLY', `unmap: ${this.source.name} is read-only`, { lba });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.source.close();
  }
}
