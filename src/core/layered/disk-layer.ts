/**
 * DiskLayer: a whole Disk as a layer, the usual bottom of a stack (the base image). Every
 * sector is present as data, so reads never fall through it and write-no-overwrite is a no-op
 * (nothing is absent), which also means a read-only base is never written by cache fills.
 *
 * Metadata follows the disk: sector sizes, readOnly, fuaRespected, unmapBehavior (unmap is
 * passed to the disk; `nextIsZero` is irrelevant because nothing can become absent),
 * optimalUnmapSectors, diskId. The layer owns the disk: closing the layer closes it.
 *
 * Errors: the layer range-checks itself (OUT_OF_RANGE) and rejects write/unmap/resize on a
 * read-only disk with READ_ONLY; failures of the disk pass through as its DiskErrors, and
 * anything else it throws is wrapped as IO.
 */
import type { Disk, UnmapBehavior } from '../disk/disk.ts';
import { asDiskError, DiskError } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from './layer.ts';
import { checkMapArgs, occupancyFromRuns } from './occupancy.ts';

export class DiskLayer implements Layer {
  readonly layerType: string;
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly fuaRespected: boolean;
  readonly unmapBehavior: UnmapBehavior;
  readonly optimalUnmapSectors: number;
  readonly diskId: Uint8Array | undefined;
  readonly resize: ((sectors: number) => Promise<void>) | undefined;
  readonly disk: Disk;

  constructor(disk: Disk) {
    this.disk = disk;
    this.layerType = `disk:${disk.diskType}`;
    this.sectorSize = disk.sectorSize;
    this.physicalSectorSize = disk.physicalSectorSize;
    this.readOnly = disk.readOnly;
    this.fuaRespected = disk.fuaRespected;
    this.unmapBehavior = disk.unmapBehavior;
    this.optimalUnmapSectors = disk.optimalUnmapSectors;
    this.diskId = disk.diskId;
    this.resize = disk.resize === undefined ? undefined : (sectors) => this.#resize(sectors);
  }

  sectorCount(): number {
    return this.disk.sectorCount();
  }

  bytesPresent(): number {
    return this.disk.sectorCount() * this.sectorSize;
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    const count = buf.length / this.sectorSize;
    checkRange('read', lba, count, this.sectorCount());
    if (count === 0) return;
    await this.#io('read', () => this.disk.read(lba, buf));
    marker.mark(lba, count);
  }

  async write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    const count = data.length / this.sectorSize;
    if (this.readOnly && !options.noOverwrite) throw new DiskError('READ_ONLY', `write: disk layer '${this.layerType}' is read-only`, { lba });
    checkRange('write', lba, count, this.sectorCount());
    // Every sector is present, so a no-overwrite write has nothing to fill.
    if (count === 0 || options.noOverwrite) return;
    await this.#io('write', () => this.disk.write(lba, data, options.fua ? { fua: true } : undefined));
  }

  async unmap(lba: number, count: number, _nextIsZero: boolean): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', `unmap: disk layer '${this.layerType}' is read-only`, { lba });
    checkRange('unmap', lba, count, this.sectorCount());
    if (count === 0) return;
    await this.#io('unmap', () => this.disk.unmap(lba, count));
  }

  async flush(): Promise<void> {
    await this.#io('flush', () => this.disk.flush());
  }

  async close(): Promise<void> {
    await this.#io('close', () => this.disk.close());
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    checkRange('presence', lba, count, this.sectorCount());
    return count === 0 ? [] : [{ lba, count, state: 'data' }];
  }

  async occupancyMap(buckets: number, lba = 0, count = this.sectorCount() - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.sectorCount());
    return occupancyFromRuns(count === 0 ? [] : [{ lba, count, state: 'data' }], buckets, lba, count);
  }

  async #resize(sectors: number): Promise<void> {
    if (this.readOnly) throw new DiskError('READ_ONLY', `resize: disk layer '${this.layerType}' is read-only`);
    await this.#io('resize', () => this.disk.resize!(sectors));
  }

  async #io(op: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      throw asDiskError(e, `${op} on disk layer '${this.layerType}'`);
    }
  }
}
