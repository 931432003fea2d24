/**
 * How qemu-io reads numbers and prints results, so the lab's shell output lines up with real
 * qemu-io output (tests compare the two, ignoring only the timing figures).
 *
 * - `parseSizeArg`: qemu's qemu_strtosz: decimal (leading zeros stay decimal) or 0x hex, an
 *   optional `+`, an optional fraction (decimal only, and only with a suffix; the fractional
 *   bytes are truncated), an optional suffix b/k/M/G/T/P/E in either case (powers of 1024).
 *   The result must fit a JavaScript number exactly (qemu allows up to 2^63-1; a disk here
 *   never exceeds 2^53-1 bytes anyway).
 * - `parsePatternByte`: strtol with base 0 (decimal, 0x hex, 0 octal), 0..255.
 * - `formatQemuSize` (cvtstr), `formatElapsed` (timestr), `reportLines` (print_report) and
 *   `hexdumpLines` (dump_buffer): the same text qemu-io prints, including C's round-half-even
 *   printf rounding, which matters for sizes such as 2.8125 MiB ("2.812 MiB").
 * Parsers return a result object (never throw); the shell turns errors into one output line.
 */

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const SIZE_UNITS: Record<string, bigint> = {
  b: 1n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
  p: 1n << 50n,
  e: 1n << 60n,
};

const SIZE_RE = /^\+?(?:0[xX]([0-9a-fA-F]+)|(\d+)(?:\.(\d*))?)([bBkKmMgGtTpPeE])?$/;

/** Parses a byte count or offset as qemu-io does; messages are qemu-io's. */
export function parseSizeArg(text: string): Parsed<number> {
  if (/^-\d/.test(text)) return { ok: false, error: `Parsing error: negative argument -- ${text}` };
  const m = SIZE_RE.exec(text);
  if (m === null) return { ok: false, error: `Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- ${text}` };
  const [, hex, whole, fraction, suffix] = m;
  if (fraction !== undefined && suffix === undefined) {
    return { ok: false, error: `Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- ${text}` };
  }
  const unit = SIZE_UNITS[(suffix ?? 'b').toLowerCase()] ?? 1n;
  let bytes = BigInt(hex === undefined ? (whole ?? '0') : `0x${hex}`) * unit;
  if (fraction !== undefined && fraction.length > 0) {
    bytes += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
  }
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: `Parsing error: argument too large -- ${text}` };
  return { ok: true, value: Number(bytes) };
}

/** A pattern byte for read -P / write -P: strtol base 0, in 0..255. */
export function parsePatternByte(text: string): Parsed<number> {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9]\d*))$/.exec(text);
  const bad = { ok: false as const, error: `${text} is not a valid pattern byte` };
  if (m === null) return bad;
  const [, sign, hex, octal, dec] = m;
  const magnitude = hex !== undefined ? parseInt(hex, 16) : octal !== undefined ? (octal === '' ? 0 : parseInt(octal, 8)) : Number(dec);
  const value = sign === '-' ? -magnitude : magnitude;
  return Number.isInteger(value) && value >= 0 && value <= 255 ? { ok: true, value } : bad;
}

/**
 * printf("%.<digits>f") for a non-negative number, with C's rounding: the exact binary value is
 * rounded to nearest, ties to even. (Number.toFixed breaks ties upwards, which prints
 * 2.8125 as "2.813" where qemu prints "2.812".)
 */
export function printfFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return value < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(value)) return value < 0 ? '-inf' : 'inf';
  // 100 fraction digits hold the exact expansion of every double >= 2^-100; smaller ones only
  // matter as "not a tie", which the trailing digit check still gets right.
  const exact = Math.abs(value).toFixed(100);
  const point = exact.indexOf('.');
  const kept = exact.slice(0, point) + exact.slice(point + 1, point + 1 + digits);
  const rest = exact.slice(point + 1 + digits);
  let n = BigInt(kept);
  const first = rest.charCodeAt(0) - 48;
  const tail = rest.slice(1);
  const beyondHalf = first > 5 || (first === 5 && /[1-9]/.test(tail));
  const tie = first === 5 && !/[1-9]/.test(tail);
  if (beyondHalf || (tie && n % 2n === 1n)) n += 1n;
  let s = n.toString().padStart(digits + 1, '0');
  if (digits > 0) s = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  return value < 0 && n !== 0n ? `-${s}` : s;
}

const SIZE_SUFFIXES: readonly [number, string][] = [
  [2 ** 60, ' EiB'],
  [2 ** 50, ' PiB'],
  [2 ** 40, ' TiB'],
  [2 ** 30, ' GiB'],
  [2 ** 20, ' MiB'],
  [2 ** 10, ' KiB'],
];

/** qemu-io's cvtstr: "4 KiB", "1.500 KiB", "16 bytes", "805.895935 bytes". */
export function formatQemuSize(value: number): string {
  let text: string;
  let suffix = ' bytes';
  const unit = SIZE_SUFFIXES.find(([size]) => value >= size);
  if (unit !== undefined) {
    text = printfFixed(value / unit[0], 3);
    suffix = unit[1];
  } else {
    text = printfFixed(value, 6);
  }
  const trim = text.indexOf('.000');
  return trim >= 0 ? text.slice(0, trim) + suffix : text + suffix;
}

/** qemu-io's timestr: "00.30 sec" under a second, "0:00:01.50" from a second on or when `fixed`. */
export function formatElapsed(ns: number, fixed: boolean): string {
  const whole = Math.floor(ns / 1e9);
  const frac = (ns - whole * 1e9) / 1e9;
  if (!fixed && whole === 0) return `${printfFixed(frac, 2).padStart(5, '0')} sec`;
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const seconds = (whole % 60) + frac;
  return `${hours}:${String(minutes).padStart(2, '0')}:${printfFixed(seconds, 2).padStart(5, '0')}`;
}

/**
 * qemu-io's print_report: "read 16/16 bytes at offset 0" and the statistics line, or with
 * `csv` (-C) the one machine-readable line "bytes,ops,time,bytes/sec,ops/sec".
 */
export function reportLines(op: string, offset: number, count: number, total: number, elapsedNs: number, csv: boolean): string[] {
  const seconds = elapsedNs / 1e9;
  const ops = 1;
  if (csv) {
    return [`${total},${ops},${formatElapsed(elapsedNs, true)},${printfFixed(total / seconds, 3)},${printfFixed(ops / seconds, 3)}`];
  }
  return [
    `${op} ${total}/${count} bytes at offset ${offset}`,
    `${formatQemuSize(total)}, ${ops} ops; ${formatElapsed(elapsedNs, false)} (${formatQemuSize(total / seconds)}/sec and ${printfFixed(ops / seconds, 4)} ops/sec)`,
  ];
}

/** C's isalnum in the C locale: what qemu-io's dump shows as itself rather than '.'. */
function printable(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** qemu-io's dump_buffer: 16 bytes a line, offset in hex, then hex bytes, then letters and digits. */
export function hexdumpLines(buf: Uint8Array, offset: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i += 16) {
    const row = buf.subarray(i, Math.min(i + 16, buf.length));
    let hex = '';
    let chars = '';
    for (const b of row) {
      hex += `${b.toString(16).padStart(2, '0')} `;
      chars += printable(b) ? String.fromCharCode(b) : '.';
    }
    lines.push(`${(offset + i).toString(16).padStart(8, '0')}:  ${hex} ${chars}`);
  }
  return lines;
}
