/**
 * SparseDiskLayer: the base of an image chain (a dynamic VHD, a VHDX without a parent) as a
 * DiskLayer whose presence is the file's own allocation instead of "the whole disk". It pairs
 * two faces of one image: `disk`, the image as a Disk (kept so that tools that look inside a
 * DiskLayer, such as `disklab map` and `info`, still find the format's disk), and `view`, the
 * same image as a Layer, which answers every Layer call: read, write, unmap, presence,
 * occupancy, bytesPresent, flush and close. `layerType` stays `disk:<diskType>`, as before.
 *
 * Presence state of what the file does not hold: `absent`, not `zero`. A base has nothing below
 * it, so LayeredDisk zero-fills absent sectors and the bytes read are exactly the disk's (which
 * reads them as zeroes too). QEMU calls such ranges "zero" in `qemu-img map`, but as *not
 * allocated* in the file; in the Layer contract `zero` means the layer holds a record saying
 * "zeroes" (qcow2 zero clusters, VHDX ZERO blocks), and the occupancy map counts zero records as
 * held. Reporting unallocated blocks as `zero` would paint the whole disk as held again, and
 * would disagree with a qcow2 base, whose unallocated clusters are already `absent`.
 *
 * The view must be the same image as the disk (same sector size, count and read-only flag):
 * construction checks that (DiskConfigError). The layer owns the image: `close` closes the view,
 * which closes the file the disk shares (closing both would close it twice).
 *
 * Errors: as the view's (range checks with OUT_OF_RANGE, READ_ONLY for writes to a read-only
 * image; a no-overwrite write to a read-only one is accepted and ignored); anything that is not
 * a DiskError is wrapped as IO.
 */
import type { Disk } from '../disk/disk.ts';
import { asDiskError, DiskConfigError } from '../disk/errors.ts';
import { DiskLayer } from './disk-layer.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from './layer.ts';

export class SparseDiskLayer extends DiskLayer {
  /** The image as a Layer: what it holds, per sector. */
  readonly view: Layer;

  constructor(disk: Disk, view: Layer) {
    super(disk);
    const mismatch = (field: string, a: unknown, b: unknown): DiskConfigError =>
      new DiskConfigError('INVALID_PARAMETER', field, `sparse disk layer: the view (${view.layerType}) has ${field} ${String(b)}, the disk (${disk.diskType}) ${String(a)}`, { value: b });
    if (view.sectorSize !== disk.sectorSize) throw mismatch('sectorSize', disk.sectorSize, view.sectorSize);
    if (view.sectorCount() !== disk.sectorCount()) throw mismatch('sectorCount', disk.sectorCount(), view.sectorCount());
    if (view.readOnly !== disk.readOnly) throw mismatch('readOnly', disk.readOnly, view.readOnly);
    if (view.unmapBehavior !== disk.unmapBehavior) throw mismatch('unmapBehavior', disk.unmapBehavior, view.unmapBehavior);
    if (disk.resize !== undefined || view.resize !== undefined) throw mismatch('resize', disk.resize !== undefined, view.resize !== undefined);
    this.view = view;
  }

  override sectorCount(): number {
    return this.view.sectorCount();
  }

  override bytesPresent(): number {
    return this.view.bytesPresent();
  }

  override read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    return this.#io('read', () => this.view.read(lba, buf, marker));
  }

  override write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    // Unlike a full DiskLayer, a no-overwrite write has absent sectors to fill (when writable).
    return this.#io('write', () => this.view.write(lba, data, options));
  }

  override unmap(lba: number, count: number, nextIsZero: boolean): Promise<void> {
    return this.#io('unmap', () => this.view.unmap(lba, count, nextIsZero));
  }

  override flush(): Promise<void> {
    return this.#io('flush', () => this.view.flush());
  }

  override close(): Promise<void> {
    return this.#io('close', () => this.view.close());
  }

  override presence(lba: number, count: number): Promise<PresenceRun[]> {
    return this.#io('presence', () => this.view.presence(lba, count));
  }

  override occupancyMap(buckets: number, lba?: number, count?: number): Promise<Float64Array> {
    return this.#io('occupancy map', () => this.view.occupancyMap(buckets, lba, count));
  }

  async #io<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw asDiskError(e, `${op} on disk layer '${this.layerType}'`);
    }
  }
}
