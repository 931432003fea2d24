/**
 * DelayDisk: adds a fixed latency to each operation, per operation type (like OpenVMM disk_delay),
 * so the lab can show what a slow device does to queue depth and latency percentiles.
 *
 * The delay is spent *before* the operation is forwarded: the request "travels" for the configured
 * time and then happens, so data written becomes visible no earlier than the delay, and a read
 * returns the data as of its completion, as a slow device would. Time comes from the `Clock` port,
 * so tests use a ManualClock and assert delays without sleeping. Zero-length requests are delayed
 * like any other (the device still sees a command). Delays can be changed at runtime; a change
 * affects operations issued afterwards. `close` is not delayed.
 *
 * Errors: configuration problems are `DiskConfigError('INVALID_PARAMETER')`; I/O errors from the
 * inner disk pass through unchanged, after the delay.
 */
import type { Disk, WriteOptions } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import type { Clock } from '../ports/clock.ts';
import { ForwardingDisk } from './forwarding-disk.ts';

export type DelayedOp = 'read' | 'write' | 'flush' | 'unmap';

/** A duration in nanoseconds or microseconds. */
export type Duration = { readonly ns: number } | { readonly us: number };

export type DelayConfig = Partial<Record<DelayedOp, Duration>>;

const OPS: readonly DelayedOp[] = ['read', 'write', 'flush', 'unmap'];

export function durationNs(d: Duration): number {
  return 'ns' in d ? d.ns : d.us * 1000;
}

export class DelayDisk extends ForwardingDisk {
  readonly #clock: Clock;
  readonly #delayNs: Record<DelayedOp, number> = { read: 0, write: 0, flush: 0, unmap: 0 };

  constructor(inner: Disk, clock: Clock, delays: DelayConfig = {}) {
    super(inner);
    this.#clock = clock;
    this.setDelays(delays);
  }

  // diskType changes: the stack view shows this layer as 'delay'.
  override get diskType(): string {
    return 'delay';
  }

  /** Replaces the delay of each op named in `delays`; ops not named keep theirs. */
  setDelays(delays: DelayConfig): void {
    const next = { ...this.#delayNs };
    for (const op of OPS) {
      const d = delays[op];
      if (d === undefined) continue;
      const ns = durationNs(d);
      if (!Number.isFinite(ns) || ns < 0) {
        throw new DiskConfigError('INVALID_PARAMETER', op, `${op} delay ${JSON.stringify(d)} is not a non-negative duration`, { value: d });
      }
      next[op] = ns;
    }
    Object.assign(this.#delayNs, next);
  }

  /** The current delay of each op, in nanoseconds. */
  delays(): Readonly<Record<DelayedOp, number>> {
    return { ...this.#delayNs };
  }

  override async read(lba: number, buf: Uint8Array): Promise<void> {
    await this.#wait('read');
    return this.inner.read(lba, buf);
  }

  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    await this.#wait('write');
    return this.inner.write(lba, data, options);
  }

  override async flush(): Promise<void> {
    await this.#wait('flush');
    return this.inner.flush();
  }

  override async unmap(lba: number, count: number): Promise<void> {
    await this.#wait('unmap');
    return this.inner.unmap(lba, count);
  }

  async #wait(op: DelayedOp): Promise<void> {
    const ns = this.#delayNs[op];
    if (ns > 0) await this.#clock.sleep(ns);
  }
}
