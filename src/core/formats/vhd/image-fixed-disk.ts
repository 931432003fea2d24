/**
 * `ImageFixedDisk`: a read-only fixed VHD over an `ImageFile`, for when a fixed VHD is the parent
 * of a differencing chain (fixed.ts works over a SyncFile, which a browser File is not). Sector i
 * is at byte 512 * i; the footer (already parsed by the caller) follows the last sector.
 * Errors: OUT_OF_RANGE past the end, READ_ONLY for writes and unmap, the file's DiskErrors on read.
 */
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import { checkRange } from '../../disk/range.ts';
import type { ImageFile } from '../image-file.ts';
import { VHD_FOOTER_SIZE, type VhdFooter } from './footer.ts';

export class ImageFixedDisk implements Disk {
  readonly diskType = 'vhd-fixed';
  readonly sectorSize = 512;
  readonly physicalSectorSize = 512;
  readonly readOnly = true;
  readonly fuaRespected = false;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly diskId: Uint8Array;
  readonly #file: ImageFile;
  readonly #sectors: number;

  constructor(file: ImageFile, footer: VhdFooter) {
    if (file.size() !== footer.currentSize + VHD_FOOTER_SIZE) {
      throw new DiskError('CORRUPT_IMAGE', `${file.name}: VHD footer: current size ${footer.currentSize} does not match the ${file.size()}-byte file`, { field: 'currentSize' });
    }
    this.#file = file;
    this.#sectors = footer.currentSize / 512;
    this.diskId = footer.uniqueId.slice();
  }

  /** The image file (its name is the chain entry `info` and `map` print; sector i is at byte 512 * i). */
  get file(): ImageFile {
    return this.#file;
  }

  sectorCount(): number {
    return this.#sectors;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    checkRange('read', lba, buf.length / 512, this.#sectors);
    if (buf.length > 0) await this.#file.read(lba * 512, buf, 'data');
  }

  async write(lba: number): Promise<void> {
    throw new DiskError('READ_ONLY', `write: parent ${this.#file.name} is read-only`, { lba });
  }

  async unmap(lba: number): Promise<void> {
    throw new DiskError('READ_ONLY', `unmap: parent ${this.#file.name} is read-only`, { lba });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.#file.close();
  }
}
