/**
 * Sizes as qemu-img reads and prints them.
 * - `parseSize`: a decimal number with an optional suffix b, k, M, G, T, P, E (case-insensitive,
 *   powers of 1024); a fraction needs a suffix ("1.5G"), and the result must be whole bytes.
 * - `humanSize`: qemu's size_to_str: three significant digits and a binary unit, switching unit
 *   once the number would reach 1000 ("10 MiB", "1.5 GiB", "0.977 KiB").
 * Errors are DiskConfigError('INVALID_PARAMETER', 'size').
 */
import { DiskConfigError } from '../core/disk/errors.ts';

const UNITS: Record<string, number> = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

export function parseSize(text: string): number {
  const bad = (why: string): never => {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `invalid size '${text}': ${why}`, { value: text });
  };
  const m = /^(\d+)(?:\.(\d+))?([bkmgtpe])?$/i.exec(text.trim());
  if (m === null) return bad('use a number of bytes or a k, M, G, T, P or E suffix');
  const [, whole = '', fraction, suffix] = m;
  const unit = UNITS[(suffix ?? 'b').toLowerCase()] ?? 1;
  if (fraction !== undefined && unit === 1) bad('a fraction needs a unit suffix');
  const bytes = Number(`${whole}.${fraction ?? '0'}`) * unit;
  if (!Number.isSafeInteger(bytes)) bad(Number.isInteger(bytes) ? 'too large' : 'not a whole number of bytes');
  return bytes;
}

export function humanSize(bytes: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  // floor(log2(bytes * 1024 / 1000)) / 10, as qemu computes it with frexp.
  const scaled = bytes / (1000 / 1024);
  const exponent = scaled < 1 ? 0 : Math.floor(Math.log2(scaled)) + 1;
  const i = Math.min(suffixes.length - 1, Math.max(0, Math.floor((exponent - 1) / 10)));
  return `${threeDigits(bytes / 2 ** (i * 10))} ${suffixes[i]}B`;
}

/** printf's %0.3g for the values humanSize produces (below 1000, so never exponential). */
function threeDigits(n: number): string {
  if (n === 0) return '0';
  const fixed = Number(n.toPrecision(3));
  return String(fixed);
}

/** Rounds up to a whole 512-byte sector, as qemu-img create does. */
export function roundUpToSector(bytes: number): number {
  return Math.ceil(bytes / 512) * 512;
}
