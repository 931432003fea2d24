/**
 * MeteredDisk: measures every operation passing through it, per operation type (read, write,
 * flush, unmap), like QEMU's block-latency-histogram and fio's completion latency (clat).
 *
 * For each type it keeps: operations completed, bytes moved by them (unmap counts the bytes it
 * deallocated; flush moves none), failures (in total and by DiskError code), operations in flight,
 * and a fio-style LatencyHistogram of completion latency from the `Clock` port (issue to settle,
 * in ns). Only successful operations enter the histogram and byte counts: a failure's latency says
 * how fast the disk gave up, which would distort the percentiles a student reads as "how fast is
 * this disk". Zero-length operations are measured like any other.
 *
 * `stats()` returns a plain, structured-cloneable snapshot; `histogram(op)` the live histogram.
 *
 * Errors: every failure of the inner disk is counted and rethrown unchanged (the same object).
 */
import type { Disk, WriteOptions } from '../disk/disk.ts';
import { isDiskError, type DiskErrorCode } from '../disk/errors.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import { LatencyHistogram, type LatencyHistogramSnapshot } from '../stats/latency-histogram.ts';
import { ForwardingDisk } from './forwarding-disk.ts';

export type MeteredOp = 'read' | 'write' | 'flush' | 'unmap';

export const METERED_OPS: readonly MeteredOp[] = ['read', 'write', 'flush', 'unmap'];

export interface OpStats {
  /** Operations that completed successfully. */
  readonly ops: number;
  /** Bytes read, written or unmapped by successful operations. */
  readonly bytes: number;
  /** Operations that failed. */
  readonly errors: number;
  readonly errorsByCode: Readonly<Partial<Record<DiskErrorCode, number>>>;
  /** Issued and not yet settled, at the time of the snapshot. */
  readonly inFlight: number;
  /** Completion latency of successful operations. */
  readonly latency: LatencyHistogramSnapshot;
}

export type MeteredStats = Readonly<Record<MeteredOp, OpStats>>;

class OpMeter {
  ops = 0;
  bytes = 0;
  errors = 0;
  errorsByCode: Partial<Record<DiskErrorCode, number>> = {};
  inFlight = 0;
  readonly latency = new LatencyHistogram();

  snapshot(): OpStats {
    return {
      ops: this.ops,
      bytes: this.bytes,
      errors: this.errors,
      errorsByCode: { ...this.errorsByCode },
      inFlight: this.inFlight,
      latency: this.latency.snapshot(),
    };
  }

  reset(): void {
    this.ops = 0;
    this.bytes = 0;
    this.errors = 0;
    this.errorsByCode = {};
    this.latency.reset();
    // inFlight is not history: operations still running will settle and decrement it.
  }
}

export class MeteredDisk extends ForwardingDisk {
  readonly #clock: Clock;
  readonly #meters: Record<MeteredOp, OpMeter> = { read: new OpMeter(), write: new OpMeter(), flush: new OpMeter(), unmap: new OpMeter() };

  constructor(inner: Disk, clock: Clock = systemClock) {
    super(inner);
    this.#clock = clock;
  }

  // diskType changes: the stack view shows this layer as 'metered'.
  override get diskType(): string {
    return 'metered';
  }

  override read(lba: number, buf: Uint8Array): Promise<void> {
    return this.#measure('read', buf.length, () => this.inner.read(lba, buf));
  }

  override write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#measure('write', data.length, () => this.inner.write(lba, data, options));
  }

  override flush(): Promise<void> {
    return this.#measure('flush', 0, () => this.inner.flush());
  }

  override unmap(lba: number, count: number): Promise<void> {
    return this.#measure('unmap', count * this.sectorSize, () => this.inner.unmap(lba, count));
  }

  /** The live histogram of one operation type (for a chart that redraws each frame). */
  histogram(op: MeteredOp): LatencyHistogram {
    return this.#meters[op].latency;
  }

  stats(): MeteredStats {
    return {
      read: this.#meters.read.snapshot(),
      write: this.#meters.write.snapshot(),
      flush: this.#meters.flush.snapshot(),
      unmap: this.#meters.unmap.snapshot(),
    };
  }

  /** Forgets the history (counts, bytes, errors, latencies); operations in flight stay counted. */
  reset(): void {
    for (const op of METERED_OPS) this.#meters[op].reset();
  }

  async #measure(op: MeteredOp, bytes: number, run: () => Promise<void>): Promise<void> {
    const meter = this.#meters[op];
    const start = this.#clock.nowNs();
    meter.inFlight++;
    try {
      await run();
    } catch (e) {
      meter.inFlight--;
      meter.errors++;
      if (isDiskError(e)) meter.errorsByCode[e.code] = (meter.errorsByCode[e.code] ?? 0) + 1;
      throw e;
    }
    meter.inFlight--;
    meter.ops++;
    meter.bytes += bytes;
    meter.latency.add(this.#clock.nowNs() - start);
  }
}
