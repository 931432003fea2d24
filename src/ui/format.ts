/**
 * Number formatting for the panels, in the units storage people read: binary byte sizes (KiB,
 * MiB), fio's latency units (usec below 10 ms, msec above, as fio switches), SI counts for IOPS.
 * Pure functions, no DOM; every input is a finite number or the output says "–".
 */

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** An exact integer with thousands separators, for sector counts and LBAs. */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '–';
}

export type LatencyUnit = 'usec' | 'msec';

/** fio prints percentiles in usec unless the largest is 10 ms or more, then in msec. */
export function latencyUnitFor(maxNs: number): LatencyUnit {
  return maxNs >= 10_000_000 ? 'msec' : 'usec';
}

export function inUnit(ns: number, unit: LatencyUnit): string {
  const v = unit === 'msec' ? ns / 1e6 : ns / 1e3;
  return v >= 100 ? v.toFixed(0) : v.toFixed(2);
}

/** A latency with its own unit, e.g. "87.10 usec" or "12.3 msec". */
export function formatLatency(ns: number): string {
  if (!Number.isFinite(ns)) return '–';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : 2)} msec`;
  return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : 2)} usec`;
}

/** Parses "4096", "4k", "1M", "64KiB", "2g" into bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  const bytes = Number(m[1]) * (scale[(m[2] ?? '').toLowerCase()] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A message for a failed call: DiskError code first when the error carries one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
