/**
 * The two read-only views of a `VhdxImage`:
 * - `VhdxDisk`, a Disk for a VHDX without a parent (dynamic or fixed): every sector it does not
 *   hold reads as zero. diskType 'vhdx', sector sizes and disk id (page 83 data) from metadata.
 * - `VhdxLayer`, a Layer for a differencing VHDX (or the presence view of a chain's base,
 *   base-layer.ts): presence is per sector (fully present blocks, set bits of partially present
 *   blocks as `data`; ZERO/UNMAPPED/UNDEFINED blocks as `zero`; the rest absent, to be read from
 *   the parent, or zero-filled below a base). `bytesPresent` is counted once at open.
 * Writes and unmaps reject with READ_ONLY (a layer's write-no-overwrite is accepted and ignored,
 * as the Layer contract asks of read-only layers); flush does nothing. Reads range-check
 * themselves (OUT_OF_RANGE). Corruption met while reading is CORRUPT_IMAGE naming the field.
 */
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import { checkRange } from '../../disk/range.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from '../../layered/layer.ts';
import { checkMapArgs, occupancyFromRuns, pushRun } from '../../layered/occupancy.ts';
import type { VhdxImage } from './image.ts';

export class VhdxDisk implements Disk {
  readonly diskType = 'vhdx';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly = true;
  readonly diskId: Uint8Array;
  readonly fuaRespected = false;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly image: VhdxImage;

  constructor(image: VhdxImage) {
    this.image = image;
    this.sectorSize = image.metadata.logicalSectorSize;
    this.physicalSectorSize = image.metadata.physicalSectorSize;
    this.diskId = image.metadata.diskId.slice();
  }

  sectorCount(): number {
    return this.image.sectorCount;
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    const count = buf.length / this.sectorSize;
    checkRange('read', lba, count, this.sectorCount());
    buf.fill(0);
    await this.image.walk(lba, count, () => {}, buf);
  }

  async write(lba: number): Promise<void> {
    throw new DiskError('READ_ONLY', `${this.image.name}: VHDX images are read-only`, { lba });
  }

  async unmap(lba: number): Promise<void> {
    throw new DiskError('READ_ONLY', `${this.image.name}: VHDX images are read-only`, { lba });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.image.file.close();
  }
}

export class VhdxLayer implements Layer {
  readonly layerType = 'vhdx';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly = true;
  readonly fuaRespected = false;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly diskId: Uint8Array;
  readonly image: VhdxImage;
  readonly #bytesPresent: number;

  private constructor(image: VhdxImage, bytesPresent: number) {
    this.image = image;
    this.sectorSize = image.metadata.logicalSectorSize;
    this.physicalSectorSize = image.metadata.physicalSectorSize;
    this.diskId = image.metadata.diskId.slice();
    this.#bytesPresent = bytesPresent;
  }

  static async create(image: VhdxImage): Promise<VhdxLayer> {
    return new VhdxLayer(image, await image.countDataBytes());
  }

  sectorCount(): number {
    return this.image.sectorCount;
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    const count = buf.length / this.sectorSize;
    checkRange('read', lba, count, this.sectorCount());
    const ss = this.sectorSize;
    await this.image.walk(
      lba,
      count,
      (at, n, state) => {
        if (state === 'zero') buf.fill(0, (at - lba) * ss, (at - lba + n) * ss);
        marker.mark(at, n);
      },
      buf,
    );
  }

  async write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    if (!options.noOverwrite) throw new DiskError('READ_ONLY', `${this.image.name}: VHDX images are read-only`, { lba });
    checkRange('write', lba, data.length / this.sectorSize, this.sectorCount());
  }

  async unmap(lba: number, _count: number, _nextIsZero: boolean): Promise<void> {
    throw new DiskError('READ_ONLY', `${this.image.name}: VHDX images are read-only`, { lba });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.image.file.close();
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    checkRange('presence', lba, count, this.sectorCount());
    const runs: PresenceRun[] = [];
    await this.image.walk(lba, count, (at, n, state) => pushRun(runs, at, n, state));
    return runs;
  }

  async occupancyMap(buckets: number, lba = 0, count = this.sectorCount() - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.sectorCount());
    return occupancyFromRuns(count === 0 ? [] : await this.presence(lba, count), buckets, lba, count);
  }

  bytesPresent(): number {
    return this.#bytesPresent;
  }
}
