/**
 * CrashSimSyncFile: an in-memory `SyncFile` that remembers what a `flush` made durable, so tests
 * can pull the plug at any moment and see what a real disk without power-loss protection might
 * have kept.
 *
 * Model: every `write` and `truncate` since the last completed `flush` is pending. `crash(random)`
 * returns the bytes a reboot could find: the durable image, plus an arbitrary subset of the
 * pending operations, applied in an arbitrary order, each either whole or torn (only some byte
 * pieces of it landed). A flush is a barrier: nothing pending before it is ever lost, and nothing
 * after it is ever applied before it. `crashFile(random)` wraps those bytes in a new
 * CrashSimSyncFile, so a test can reopen, keep going, and crash again.
 *
 * Quota: with `quotaBytes` set, a write or truncate that would grow the file beyond it throws
 * `DiskError('QUOTA')` and changes nothing, as the OPFS port reports `QuotaExceededError`.
 * `failFlushes` makes the next n flushes throw `DiskError('IO')` with nothing made durable.
 * A `CrashPlan` shared by several files pulls the plug mid-operation: once its budget of
 * write/truncate/flush calls is spent, the next such call throws `SimulatedCrash` without taking
 * effect, and so does every later call, so the code under test stops exactly there.
 * Reads past the end zero-fill, as the port promises.
 */
import { DiskError } from '../disk/errors.ts';
import type { SyncFile } from '../ports/sync-file.ts';

/** A budget of mutating calls across files; the call that finds it at zero "crashes". */
export class CrashPlan {
  remaining: number;
  constructor(remaining: number) {
    this.remaining = remaining;
  }
  get crashed(): boolean {
    return this.remaining < 0;
  }
}

export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

type PendingOp = { readonly kind: 'write'; readonly offset: number; readonly data: Uint8Array } | { readonly kind: 'truncate'; readonly size: number };

export class CrashSimSyncFile implements SyncFile {
  quotaBytes: number | undefined;
  failFlushes = 0;
  writes = 0;
  flushes = 0;
  plan: CrashPlan | undefined;
  #bytes: Uint8Array;
  #size: number;
  #durable: Uint8Array;
  #pending: PendingOp[] = [];
  #closed = false;

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.#bytes = initial.slice();
    this.#size = initial.length;
    this.#durable = initial.slice();
  }

  size(): number {
    this.#check();
    return this.#size;
  }

  read(offset: number, into: Uint8Array): void {
    this.#check();
    into.fill(0);
    if (offset < this.#size) into.set(this.#bytes.subarray(offset, Math.min(this.#size, offset + into.length)));
  }

  write(offset: number, data: Uint8Array): void {
    this.#check();
    this.#spend();
    const end = offset + data.length;
    if (this.quotaBytes !== undefined && end > Math.max(this.#size, this.quotaBytes)) {
      throw new DiskError('QUOTA', `write of ${data.length} bytes at ${offset} would exceed the ${this.quotaBytes}-byte quota`);
    }
    this.#grow(end);
    this.#bytes.set(data, offset);
    this.#size = Math.max(this.#size, end);
    this.#pending.push({ kind: 'write', offset, data: data.slice() });
    this.writes++;
  }

  truncate(size: number): void {
    this.#check();
    this.#spend();
    if (this.quotaBytes !== undefined && size > Math.max(this.#size, this.quotaBytes)) {
      throw new DiskError('QUOTA', `truncate to ${size} bytes would exceed the ${this.quotaBytes}-byte quota`);
    }
    this.#grow(size);
    if (size < this.#size) this.#bytes.fill(0, size, this.#size);
    this.#size = size;
    this.#pending.push({ kind: 'truncate', size });
  }

  flush(): void {
    this.#check();
    this.#spend();
    if (this.failFlushes > 0) {
      this.failFlushes--;
      throw new DiskError('IO', 'injected flush failure');
    }
    this.#durable = this.#bytes.slice(0, this.#size);
    this.#pending = [];
    this.flushes++;
  }

  close(): void {
    this.#closed = true;
  }

  /** Operations not yet covered by a flush. */
  get pendingOps(): number {
    return this.#pending.length;
  }

  /** A copy of what is on the file now (as the running program sees it). */
  contents(): Uint8Array {
    return this.#bytes.slice(0, this.#size);
  }

  /** What a reboot could find: the durable bytes plus a random, reordered, possibly torn subset of pending operations. */
  crash(random: () => number): Uint8Array {
    let image = this.#durable.slice();
    const ops = this.#pending.filter(() => random() < 0.5);
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ops[i], ops[j]] = [ops[j]!, ops[i]!];
    }
    for (const op of ops) {
      if (op.kind === 'truncate') {
        const next = new Uint8Array(op.size);
        next.set(image.subarray(0, Math.min(op.size, image.length)));
        image = next;
        continue;
      }
      const end = op.offset + op.data.length;
      if (end > image.length) {
        const next = new Uint8Array(end);
        next.set(image);
        image = next;
      }
      if (random() < 0.7) {
        image.set(op.data, op.offset);
        continue;
      }
      // Torn: cut the write at random points and keep each piece with even odds.
      const cuts = [0, op.data.length];
      for (let k = Math.floor(random() * 4); k > 0; k--) cuts.push(Math.floor(random() * op.data.length));
      cuts.sort((a, b) => a - b);
      for (let k = 0; k + 1 < cuts.length; k++) {
        if (random() < 0.5) image.set(op.data.subarray(cuts[k]!, cuts[k + 1]!), op.offset + cuts[k]!);
      }
    }
    return image;
  }

  /** `crash` wrapped in a fresh file whose contents are all durable. */
  crashFile(random: () => number): CrashSimSyncFile {
    return new CrashSimSyncFile(this.crash(random));
  }

  #grow(size: number): void {
    if (size <= this.#bytes.length) return;
    const next = new Uint8Array(Math.max(size, this.#bytes.length * 2, 4096));
    next.set(this.#bytes.subarray(0, this.#size));
    this.#bytes = next;
  }

  #spend(): void {
    if (!this.plan) return;
    if (this.plan.remaining <= 0) {
      this.plan.remaining = -1;
      throw new SimulatedCrash();
    }
    this.plan.remaining--;
  }

  #check(): void {
    if (this.#closed) throw new DiskError('ABORTED', 'the file is closed');
  }
}
