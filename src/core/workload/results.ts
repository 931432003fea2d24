/**
 * Results of a workload, shaped like fio's: per op type IOPS, bandwidth, completion latency
 * (min, max, mean, standard deviation, fio's percentile list from a log-linear histogram),
 * errors by NVMe status; plus the verification outcome. `formatResult` prints fio-style text.
 *
 * Latency here is guest-side clat: from just before the SQE was written to the reap that saw its
 * CQE, on the workload's Clock, so it includes doorbell, wake-up and reaping costs. As in
 * MeteredDisk, only successful I/Os enter ios, bytes and latency; failures count in errors.
 * IOPS and bandwidth are over the phase's wall time (the main phase, or the verify phase).
 *
 * Errors: none; everything is a value.
 */
import { describeStatus } from '../controller/completion-status.ts';
import { FIO_DEFAULT_PERCENTILES, LatencyHistogram, type LatencyHistogramSnapshot, type PercentileValue } from '../stats/latency-histogram.ts';
import type { ResolvedJob } from './job.ts';
import type { VerifyMismatch } from './verify.ts';

export interface ClatSummary {
  readonly minNs: number;
  readonly maxNs: number;
  readonly meanNs: number;
  readonly stdevNs: number;
  readonly percentiles: readonly PercentileValue[];
}

export interface OpSummary {
  readonly ios: number;
  readonly bytes: number;
  readonly errors: number;
  /** Failures by status, keyed by `describeStatus` text. */
  readonly errorsByStatus: Readonly<Record<string, number>>;
  readonly iops: number;
  readonly bytesPerSecond: number;
  readonly clat: ClatSummary;
  readonly latency: LatencyHistogramSnapshot;
}

export interface VerifySummary {
  readonly blocksChecked: number;
  readonly mismatches: number;
  /** The first `maxMismatchReports` mismatches (every one is counted). */
  readonly reports: readonly VerifyMismatch[];
  /** Reads of the post-write verify phase (zero ios for jobs without one). */
  readonly reads: OpSummary;
}

export interface WorkloadResult {
  readonly job: ResolvedJob;
  /** Wall time of the main phase. */
  readonly runtimeNs: number;
  readonly read: OpSummary;
  readonly write: OpSummary;
  readonly verify: VerifySummary | undefined;
  /** Set when the job ended early because the controller stopped or failed. */
  readonly aborted: string | undefined;
}

/** Accumulates one op type: Welford's running mean/variance beside a fio histogram. */
export class OpAccumulator {
  ios = 0;
  bytes = 0;
  errors = 0;
  readonly #errorsByStatus = new Map<number, number>();
  readonly #hist = new LatencyHistogram();
  #mean = 0;
  #m2 = 0;

  ok(latencyNs: number, bytes: number): void {
    this.ios++;
    this.bytes += bytes;
    const delta = latencyNs - this.#mean;
    this.#mean += delta / this.ios;
    this.#m2 += delta * (latencyNs - this.#mean);
    this.#hist.add(latencyNs);
  }

  fail(status: number): void {
    this.errors++;
    this.#errorsByStatus.set(status & 0x7ff, (this.#errorsByStatus.get(status & 0x7ff) ?? 0) + 1);
  }

  summary(elapsedNs: number): OpSummary {
    const seconds = elapsedNs > 0 ? elapsedNs / 1e9 : 0;
    const errorsByStatus: Record<string, number> = {};
    for (const [status, n] of this.#errorsByStatus) errorsByStatus[describeStatus(status)] = n;
    return {
      ios: this.ios,
      bytes: this.bytes,
      errors: this.errors,
      errorsByStatus,
      iops: seconds > 0 ? this.ios / seconds : 0,
      bytesPerSecond: seconds > 0 ? this.bytes / seconds : 0,
      clat: {
        minNs: this.#hist.min,
        maxNs: this.#hist.max,
        meanNs: this.#hist.mean,
        stdevNs: this.ios > 1 ? Math.sqrt(this.#m2 / (this.ios - 1)) : 0,
        percentiles: this.#hist.percentiles(FIO_DEFAULT_PERCENTILES),
      },
      latency: this.#hist.snapshot(),
    };
  }
}

/** fio-style text for a result, e.g. for the CLI or the lab's terminal. */
export function formatResult(r: WorkloadResult): string {
  const j = r.job;
  const lines = [
    `${j.name}: (rw=${j.rw}, bs=${j.bs}, iodepth=${j.iodepth}, queues=${j.queues}${j.rw === 'randrw' ? `, rwmixread=${j.readPercent}` : ''}${j.verify ? ', verify' : ''})`,
  ];
  const op = (name: string, s: OpSummary, elapsedNs: number): void => {
    if (s.ios === 0 && s.errors === 0) return;
    lines.push(`  ${name}: IOPS=${si(s.iops)}, BW=${binary(s.bytesPerSecond)}/s (${binary(s.bytes)}/${ms(elapsedNs)})`);
    const c = s.clat;
    lines.push(`    clat (usec): min=${us(c.minNs)}, max=${us(c.maxNs)}, avg=${us(c.meanNs)}, stdev=${us(c.stdevNs)}`);
    lines.push('    clat percentiles (usec):');
    for (let i = 0; i < c.percentiles.length; i += 4) {
      const row = c.percentiles.slice(i, i + 4).map((p) => `${p.percentile.toFixed(2).padStart(5)}th=[${us(p.ns).padStart(6)}]`);
      lines.push(`     | ${row.join(', ')}`);
    }
    for (const [status, n] of Object.entries(s.errorsByStatus)) lines.push(`    errors: ${n} x ${status}`);
  };
  op('read', r.read, r.runtimeNs);
  op('write', r.write, r.runtimeNs);
  if (r.verify !== undefined) {
    const v = r.verify;
    lines.push(`  verify: ${v.blocksChecked} blocks checked, ${v.mismatches} mismatches`);
    for (const m of v.reports.slice(0, 10)) lines.push(`    LBA ${m.lba}: ${m.kind} (expected ${m.expected}, found ${m.found})`);
  }
  if (r.aborted !== undefined) lines.push(`  aborted: ${r.aborted}`);
  return lines.join('\n');
}

function us(ns: number): string {
  const v = ns / 1000;
  return v >= 100 ? v.toFixed(0) : v.toFixed(2);
}

function ms(ns: number): string {
  return `${(ns / 1e6).toFixed(0)}msec`;
}

function si(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

function binary(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)}${units[u]}`;
}
