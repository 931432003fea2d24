/**
 * TrackedDisk: the decorator that lets jobs see a live disk's writes (DESIGN.md convention 4:
 * it extends ForwardingDisk). The guest's disk is wrapped once; jobs attach hooks to it:
 * - `before(lba, count)` runs before a write or unmap reaches the disk and may delay it (backup's
 *   copy-before-write saves the old data first);
 * - `after(lba, count)` runs once it has completed (mirror and incremental backup mark a dirty
 *   bitmap). A write that fails, or whose `before` hook failed, still calls `after`: it may
 *   have changed some sectors, and a hook pairing the two must be able to let go.
 * `quiesce()` holds new writes and unmaps at the door and waits for those in flight, so a job can
 * take its last step and `switchTo` another disk (mirror's target, commit's shorter stack) with
 * no write in between; reads and flushes carry on. Until a switch, metadata is the inner disk's;
 * `switchTo` requires the same sector size and count, so it stays true after one.
 *
 * Changed meanings: `resize` is refused with UNSUPPORTED while any hook is attached (a job's
 * bitmaps and targets have a fixed size). Errors: the disk's own pass through; a hook that throws
 * fails the write with its error (hooks that must not fail the guest, such as backup's, catch).
 */
import type { Disk, WriteOptions } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { ForwardingDisk } from '../decorators/forwarding-disk.ts';

export interface WriteHook {
  before?(lba: number, count: number): Promise<void>;
  after?(lba: number, count: number): void;
}

export class TrackedDisk extends ForwardingDisk {
  #current: Disk;
  readonly #hooks = new Set<WriteHook>();
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  #gate: Promise<void> | undefined;

  constructor(inner: Disk) {
    super(inner);
    this.#current = inner;
  }

  /** The disk writes reach now (the inner one, or what `switchTo` installed). */
  get current(): Disk {
    return this.#current;
  }

  get hookCount(): number {
    return this.#hooks.size;
  }

  addHook(hook: WriteHook): () => void {
    this.#hooks.add(hook);
    return () => this.#hooks.delete(hook);
  }

  override sectorCount(): number {
    return this.#current.sectorCount();
  }

  override read(lba: number, buf: Uint8Array): Promise<void> {
    return this.#current.read(lba, buf);
  }

  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.#tracked(lba, data.length / this.sectorSize, () => this.#current.write(lba, data, options));
  }

  override async unmap(lba: number, count: number): Promise<void> {
    await this.#tracked(lba, count, () => this.#current.unmap(lba, count));
  }

  override flush(): Promise<void> {
    return this.#current.flush();
  }

  override close(): Promise<void> {
    return this.#current.close();
  }

  protected override resizeInner(sectors: number): Promise<void> {
    if (this.#hooks.size > 0) return Promise.reject(new DiskError('UNSUPPORTED', 'resize: a block job is tracking this disk'));
    return this.#current.resize ? this.#current.resize(sectors) : Promise.reject(new DiskError('UNSUPPORTED', 'resize: the disk cannot change size'));
  }

  /** Holds new writes and unmaps, waits for those in flight, and returns the function that lets them go. */
  async quiesce(): Promise<() => void> {
    while (this.#gate) await this.#gate;
    let open!: () => void;
    this.#gate = new Promise<void>((resolve) => (open = resolve));
    while (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#gate = undefined;
      open();
    };
  }

  /** Sends all further I/O to `disk`; call it while quiesced. The old disk is not closed. */
  switchTo(disk: Disk): void {
    if (disk.sectorSize !== this.sectorSize || disk.sectorCount() !== this.#current.sectorCount()) {
      throw new DiskError('INVALID_INPUT', 'switch-over: the new disk differs in sector size or count');
    }
    this.#current = disk;
  }

  async #tracked(lba: number, count: number, io: () => Promise<void>): Promise<void> {
    while (this.#gate) await this.#gate;
    this.#inFlight++;
    const hooks = [...this.#hooks];
    try {
      try {
        for (const hook of hooks) if (hook.before) await hook.before(lba, count);
        await io();
      } finally {
        // Every hook that saw `before` sees `after`, even when the write failed (it may have changed something).
        for (const hook of hooks) if (this.#hooks.has(hook)) hook.after?.(lba, count);
      }
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}
