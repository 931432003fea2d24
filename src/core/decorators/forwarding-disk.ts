/**
 * ForwardingDisk: the one base every decorator extends (DESIGN.md convention 4).
 *
 * It implements Disk by forwarding every member to an inner disk: all metadata, `sectorCount`,
 * `read`, `write`, `flush`, `unmap`, `reservations`, `close`, and `resize` exactly when the inner
 * disk has it (so a decorator never pretends a fixed-size disk can grow). A decorator overrides only
 * what it changes and, by convention, says in a comment beside each override which property's
 * meaning it changes and why; everything not overridden means what it means on the inner disk.
 * Metadata are getters (read through to the inner disk), so a subclass overrides them with
 * `override get`, not with a field.
 *
 * Errors: whatever the inner disk rejects with passes through unchanged. The base adds no checks
 * of its own: ranges are the inner disk's job, argument shape and read-only are `openDisk`'s.
 */
import type { Disk, UnmapBehavior, WriteOptions } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import type { PersistentReservations } from '../disk/reservations.ts';

export class ForwardingDisk implements Disk {
  protected readonly inner: Disk;
  /** Present iff the inner disk is resizable; routes through `resizeInner` so subclasses can intercept. */
  readonly resize: ((sectors: number) => Promise<void>) | undefined;

  constructor(inner: Disk) {
    this.inner = inner;
    this.resize = inner.resize === undefined ? undefined : (sectors) => this.resizeInner(sectors);
  }

  /** The disk this one decorates, for stack inspection in the UI. */
  get innerDisk(): Disk {
    return this.inner;
  }

  get diskType(): string {
    return this.inner.diskType;
  }
  get sectorSize(): number {
    return this.inner.sectorSize;
  }
  get physicalSectorSize(): number {
    return this.inner.physicalSectorSize;
  }
  get readOnly(): boolean {
    return this.inner.readOnly;
  }
  get diskId(): Uint8Array | undefined {
    return this.inner.diskId;
  }
  get fuaRespected(): boolean {
    return this.inner.fuaRespected;
  }
  get unmapBehavior(): UnmapBehavior {
    return this.inner.unmapBehavior;
  }
  get optimalUnmapSectors(): number {
    return this.inner.optimalUnmapSectors;
  }
  get reservations(): PersistentReservations | undefined {
    return this.inner.reservations;
  }

  sectorCount(): number {
    return this.inner.sectorCount();
  }

  read(lba: number, buf: Uint8Array): Promise<void> {
    return this.inner.read(lba, buf);
  }

  write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    return this.inner.write(lba, data, options);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  unmap(lba: number, count: number): Promise<void> {
    return this.inner.unmap(lba, count);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Only called when the inner disk has `resize` (see the constructor). */
  protected resizeInner(sectors: number): Promise<void> {
    const resize = this.inner.resize;
    if (resize === undefined) return Promise.reject(new DiskError('UNSUPPORTED', `disk '${this.inner.diskType}' cannot resize`));
    return resize.call(this.inner, sectors);
  }
}
