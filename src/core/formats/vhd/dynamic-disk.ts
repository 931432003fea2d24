/**
 * The two faces of a sparse VHD (sparse-image.ts):
 * - `VhdDynamicDisk`, a Disk: absent sectors (unallocated blocks, clear bitmap bits) read as zero.
 * - `VhdDifferencingLayer`, a Layer for a LayeredDisk: present sectors are `data`, everything else
 *   is `absent` and falls through to the parent layers below. Presence is per sector, from the
 *   bitmaps. A dynamic image can be a layer too (the top of a chain over a RamLayer, say, or
 *   the presence view of a chain's dynamic base, base-layer.ts). `bytesPresent` agrees with
 *   `presence` once the image's bitmaps are counted (`image.loadPresentCounts()`, which
 *   openVhdDynamic does); before that an allocated block whose bitmap was never read counts whole.
 *
 * Both: 512-byte sectors, the footer's unique id as diskId, FUA honoured (a flush after the
 * write) when the file can flush, no resize. Unmap is `ignored`: the sectors keep their data (a
 * VHD cannot free part of a block, and clearing bitmap bits would not zero them for readers that
 * ignore the bitmap, such as QEMU's). Errors: OUT_OF_RANGE from the range checks, READ_ONLY for
 * writes to a read-only image, CORRUPT_IMAGE/IO from the image file.
 */
import type { Disk, WriteOptions } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import { checkRange } from '../../disk/range.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from '../../layered/layer.ts';
import { checkMapArgs, occupancyFromRuns } from '../../layered/occupancy.ts';
import type { VhdSparseImage } from './sparse-image.ts';

abstract class VhdSparseBase {
  readonly sectorSize = 512;
  readonly physicalSectorSize = 512;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly readOnly: boolean;
  readonly diskId: Uint8Array;
  readonly fuaRespected: boolean;
  readonly image: VhdSparseImage;

  constructor(image: VhdSparseImage) {
    this.image = image;
    this.readOnly = image.readOnly;
    this.diskId = image.footer.uniqueId.slice();
    this.fuaRespected = image.file.flush !== undefined;
  }

  sectorCount(): number {
    return this.image.sectors;
  }

  async flush(): Promise<void> {
    await this.image.flush();
  }

  async close(): Promise<void> {
    await this.image.flush().catch(() => undefined);
    await this.image.file.close();
  }

  protected checkUnmap(lba: number, count: number): void {
    if (this.readOnly) throw new DiskError('READ_ONLY', `unmap: ${this.image.file.name} is read-only`, { lba });
    checkRange('unmap', lba, count, this.sectorCount());
  }
}

export class VhdDynamicDisk extends VhdSparseBase implements Disk {
  readonly diskType: string;

  constructor(image: VhdSparseImage) {
    super(image);
    this.diskType = `vhd-${image.footer.diskType}`;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    checkRange('read', lba, buf.length / 512, this.sectorCount());
    buf.fill(0);
    await this.image.readPresent(lba, buf);
  }

  async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    if (data.length === 0) {
      checkRange('write', lba, 0, this.sectorCount());
      return;
    }
    await this.image.write(lba, data, { fua: options?.fua ?? false });
  }

  async unmap(lba: number, count: number): Promise<void> {
    this.checkUnmap(lba, count);
  }
}

export class VhdDifferencingLayer extends VhdSparseBase implements Layer {
  readonly layerType: string;

  constructor(image: VhdSparseImage) {
    super(image);
    this.layerType = `vhd-${image.footer.diskType}`;
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    await this.image.readPresent(lba, buf, marker);
  }

  async write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    if (this.readOnly && !options.noOverwrite) throw new DiskError('READ_ONLY', `write: ${this.image.file.name} is read-only`, { lba });
    checkRange('write', lba, data.length / 512, this.sectorCount());
    // A read-only layer accepts cache fills by doing nothing (they change nothing the stack reads).
    if (data.length === 0 || this.readOnly) return;
    await this.image.write(lba, data, { fua: options.fua ?? false, noOverwrite: options.noOverwrite ?? false });
  }

  async unmap(lba: number, count: number, _nextIsZero: boolean): Promise<void> {
    this.checkUnmap(lba, count);
  }

  presence(lba: number, count: number): Promise<PresenceRun[]> {
    return this.image.presence(lba, count);
  }

  async occupancyMap(buckets: number, lba = 0, count = this.sectorCount() - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.sectorCount());
    return occupancyFromRuns(await this.image.presence(lba, count), buckets, lba, count);
  }

  bytesPresent(): number {
    return this.image.bytesPresent();
  }
}
