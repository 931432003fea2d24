/**
 * Benchmark harness: each benchmark measures the thing under test and, in the same run, a peer
 * or the raw platform doing the same work, so results are ratios that survive a slower machine.
 * Timing uses a fixed wall-clock budget per measurement after a warm-up.
 */
export interface Measurement {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

export interface BenchResult {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly value: number;
  readonly ops: number;
  readonly seconds: number;
  readonly baseline: Measurement;
  /** value / baseline.value: 1.0 means as fast as the baseline. */
  readonly ratio: number;
  /** The ratio the issue asks for, where it names one. */
  readonly targetRatio?: number;
}

export interface Rate {
  readonly perSecond: number;
  readonly ops: number;
  readonly seconds: number;
}

/** Runs `op` (given the op index) repeatedly for about `budgetMs`, after a warm-up, and returns ops/s. */
export async function rate(op: (i: number) => unknown, budgetMs = 1000, batch = 256): Promise<Rate> {
  // Synchronous baselines are not awaited: an await would charge them a microtask they don't need.
  const runBatch = async (first: number, count: number) => {
    for (let i = first; i < first + count; i++) {
      const r = op(i);
      if (r instanceof Promise) await r;
    }
  };
  await runBatch(0, batch * 4);
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budgetMs) {
    await runBatch(ops, batch);
    ops += batch;
    now = performance.now();
  }
  const seconds = (now - start) / 1000;
  return { perSecond: ops / seconds, ops, seconds };
}

/** A deterministic xorshift generator so every run issues the same offsets. */
export function offsets(count: number, limit: number, seed = 1): Float64Array {
  const out = new Float64Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x % limit;
  }
  return out;
}

export function result(
  name: string,
  description: string,
  unit: string,
  subject: Rate,
  baseline: { name: string; rate: Rate },
): BenchResult {
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    name,
    description,
    unit,
    value: round(subject.perSecond),
    ops: subject.ops,
    seconds: round(subject.seconds),
    baseline: { name: baseline.name, unit, value: round(baseline.rate.perSecond) },
    ratio: Math.round((subject.perSecond / baseline.rate.perSecond) * 1000) / 1000,
  };
}
