/**
 * SwitchableDisk: one stable Disk object in front of a stack whose composition changes while it
 * is in use (a RAM diff or a decorator added or removed on the live stack). The controller, the
 * shell and the hex view hold this object; the stack swaps what it forwards to.
 *
 * Promises
 * - A switch happens only between operations: `switchTo` stops new operations from starting,
 *   waits until every operation already issued has settled on the old composition, then points
 *   at the new one and lets the waiting operations through, in order. No operation ever spans
 *   two compositions, so a write is never half in an overlay that is being removed.
 * - Switches are serialised; each resolves once its own target is in place.
 * - Metadata read through to the current target. A consumer that caches metadata (`openDisk`
 *   does) keeps what it saw; overlays never change the sector size or count, only `readOnly` can
 *   change (a RAM diff over a read-only image), and then the writer sees the target's own
 *   READ_ONLY, never a wrong write.
 * - `close` does nothing: the stack owns and closes the composition.
 *
 * Errors: whatever the current target rejects with, unchanged.
 */
import type { Disk, UnmapBehavior, WriteOptions } from '../../src/core/disk/disk.ts';
import type { PersistentReservations } from '../../src/core/disk/reservations.ts';

export class SwitchableDisk implements Disk {
  #target: Disk;
  #inFlight = 0;
  #gate: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(target: Disk) {
    this.#target = target;
  }

  get target(): Disk {
    return this.#target;
  }

  /** Operations issued and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get diskType(): string {
    return this.#target.diskType;
  }
  get sectorSize(): number {
    return this.#target.sectorSize;
  }
  get physicalSectorSize(): number {
    return this.#target.physicalSectorSize;
  }
  get readOnly(): boolean {
    return this.#target.readOnly;
  }
  get diskId(): Uint8Array | undefined {
    return this.#target.diskId;
  }
  get fuaRespected(): boolean {
    return this.#target.fuaRespected;
  }
  get unmapBehavior(): UnmapBehavior {
    return this.#target.unmapBehavior;
  }
  get optimalUnmapSectors(): number {
    return this.#target.optimalUnmapSectors;
  }
  get reservations(): PersistentReservations | undefined {
    return this.#target.reservations;
  }
  /** Present when the current target can resize (read once by `openDisk`). */
  get resize(): ((sectors: number) => Promise<void>) | undefined {
    return this.#target.resize === undefined ? undefined : (sectors) => this.#op((d) => d.resize!(sectors));
  }

  sectorCount(): number {
    return this.#target.sectorCount();
  }

  read(lba: number, buf: Uint8Array): Promise<void> {
    return this.#op((d) => d.read(lba, buf));
  }

  write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#op((d) => d.write(lba, data, options));
  }

  flush(): Promise<void> {
    return this.#op((d) => d.flush());
  }

  unmap(lba: number, count: number): Promise<void> {
    return this.#op((d) => d.unmap(lba, count));
  }

  async close(): Promise<void> {}

  /** Points at `next` once every operation in flight has settled; see the module doc. */
  async switchTo(next: Disk): Promise<void> {
    while (this.#gate) await this.#gate;
    let open!: () => void;
    this.#gate = new Promise<void>((resolve) => (open = resolve));
    try {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      this.#target = next;
    } finally {
      this.#gate = undefined;
      open();
    }
  }

  async #op(fn: (d: Disk) => Promise<void>): Promise<void> {
    while (this.#gate) await this.#gate;
    this.#inFlight++;
    try {
      await fn(this.#target);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#drained) {
        const drained = this.#drained;
        this.#drained = undefined;
        drained();
      }
    }
  }
}
