import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatElapsed,
  formatQemuSize,
  hexdumpLines,
  parsePatternByte,
  parseSizeArg,
  printfFixed,
  reportLines,
} from './qemu-format.ts';

const NON_NUMERIC = (t: string) => `Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- ${t}`;

describe('parseSizeArg (qemu_strtosz as qemu-io 7.2 accepts it)', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['010', 10],
    ['+5', 5],
    ['0x10', 16],
    ['0X10', 16],
    ['0x1k', 1024],
    ['1k', 1024],
    ['1K', 1024],
    ['1b', 1],
    ['1B', 1],
    ['1m', 2 ** 20],
    ['3G', 3 * 2 ** 30],
    ['1T', 2 ** 40],
    ['1p', 2 ** 50],
    ['1.5k', 1536],
    ['0.5k', 512],
    ['5.k', 5120],
    ['1.1k', 1126],
    ['1.0001k', 1024],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSizeArg(text)).toEqual({ ok: true, value: bytes });
  });

  it.each(['1x', '1.5', '.5k', '0x', '0x1.8k', '1e-3k', '1.5e1k', "'0'", '', 'k', '1kb', '1KiB', ' 1', '--1'])(
    '%j is not a number',
    (text) => {
      expect(parseSizeArg(text)).toEqual({ ok: false, error: NON_NUMERIC(text) });
    },
  );

  it('names negative and too-large arguments', () => {
    expect(parseSizeArg('-1')).toEqual({ ok: false, error: 'Parsing error: negative argument -- -1' });
    expect(parseSizeArg('-0x10')).toEqual({ ok: false, error: 'Parsing error: negative argument -- -0x10' });
    for (const t of ['8E', '9007199254740992', '99999999999999999999', '8192P']) {
      expect(parseSizeArg(t)).toEqual({ ok: false, error: `Parsing error: argument too large -- ${t}` });
    }
    expect(parseSizeArg('7E')).toEqual({ ok: false, error: 'Parsing error: argument too large -- 7E' });
    expect(parseSizeArg('7P')).toEqual({ ok: true, value: 7 * 2 ** 50 });
  });
});

describe('parsePatternByte (strtol base 0, 0..255)', () => {
  it.each([
    ['0xab', 0xab],
    ['0XFF', 255],
    ['65', 65],
    ['0101', 65],
    ['0', 0],
    ['+7', 7],
  ])('%s is %d', (text, value) => {
    expect(parsePatternByte(text)).toEqual({ ok: true, value });
  });

  it.each(['256', '-1', '0x1234', 'abc', '0x1z', '08', '', '1.0'])('%j is rejected in qemu-io words', (text) => {
    expect(parsePatternByte(text)).toEqual({ ok: false, error: `${text} is not a valid pattern byte` });
  });
});

/** Exact round-half-even of n / 2^k to `digits` decimals, by integer arithmetic. */
function reference(n: bigint, k: number, digits: number): string {
  const num = n * 10n ** BigInt(digits);
  const den = 1n << BigInt(k);
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

describe('printfFixed', () => {
  it('rounds exact ties to even, as C printf does', () => {
    expect(printfFixed(2.8125, 3)).toBe('2.812');
    expect(printfFixed(2.8135, 3)).toBe('2.813'); // not a tie in binary
    expect(printfFixed(0.0625, 3)).toBe('0.062');
    expect(printfFixed(0.5, 0)).toBe('0');
    expect(printfFixed(1.5, 0)).toBe('2');
    expect(printfFixed(0.125, 2)).toBe('0.12');
    expect(printfFixed(0.375, 2)).toBe('0.38');
    expect(printfFixed(999.9999, 3)).toBe('1000.000');
    expect(printfFixed(805.8959354, 6)).toBe('805.895935');
  });

  it('prints infinities and NaN as glibc does', () => {
    expect(printfFixed(Infinity, 3)).toBe('inf');
    expect(printfFixed(NaN, 3)).toBe('nan');
  });

  it('agrees with exact rational rounding on dyadic values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 6 }), (n, k, digits) => {
        const value = Number(n) / 2 ** k;
        expect(printfFixed(value, digits)).toBe(reference(n, k, digits));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatQemuSize (cvtstr)', () => {
  it.each([
    [0, '0 bytes'],
    [16, '16 bytes'],
    [1000, '1000 bytes'],
    [805.895935, '805.895935 bytes'],
    [1024, '1 KiB'],
    [1536, '1.500 KiB'],
    [4096, '4 KiB'],
    [1004.181 * 1024, '1004.181 KiB'],
    [2 ** 20, '1 MiB'],
    [0x2b0000, '2.688 MiB'],
    [0x2d0000, '2.812 MiB'],
    [0x410000, '4.062 MiB'],
    [1023.438 * 1024, '1023.438 KiB'],
    [2 ** 30 * 1.731, '1.731 GiB'],
    [2 ** 40, '1 TiB'],
    [2 ** 50 * 3, '3 PiB'],
    [2 ** 62, '4 EiB'],
  ])('%d -> %s', (value, text) => {
    expect(formatQemuSize(value)).toBe(text);
  });
});

describe('formatElapsed (timestr)', () => {
  it('prints sub-second times as seconds and longer ones as h:mm:ss.ss', () => {
    expect(formatElapsed(0, false)).toBe('00.00 sec');
    expect(formatElapsed(300_000_000, false)).toBe('00.30 sec');
    expect(formatElapsed(1_500_000_000, false)).toBe('0:00:01.50');
    expect(formatElapsed(3_723_250_000_000, false)).toBe('1:02:03.25');
    expect(formatElapsed(0, true)).toBe('0:00:00.00');
    expect(formatElapsed(300_000_000, true)).toBe('0:00:00.30');
  });
});

describe('reportLines (print_report)', () => {
  it('prints the transfer and the statistics line', () => {
    expect(reportLines('read', 0, 512, 512, 300_000_000, false)).toEqual([
      'read 512/512 bytes at offset 0',
      '512 bytes, 1 ops; 00.30 sec (1.667 KiB/sec and 3.3333 ops/sec)',
    ]);
    expect(reportLines('wrote', 7, 4, 4, 1_500_000_000, false)).toEqual([
      'wrote 4/4 bytes at offset 7',
      '4 bytes, 1 ops; 0:00:01.50 (2.666667 bytes/sec and 0.6667 ops/sec)',
    ]);
  });

  it('prints one machine-readable line with -C', () => {
    expect(reportLines('read', 0, 512, 512, 1_500_000_000, true)).toEqual(['512,1,0:00:01.50,341.333,0.667']);
  });

  it('prints what C prints for a zero elapsed time', () => {
    expect(reportLines('read', 0, 16, 16, 0, false)[1]).toBe('16 bytes, 1 ops; 00.00 sec (inf EiB/sec and inf ops/sec)');
  });
});

describe('hexdumpLines (dump_buffer)', () => {
  it('matches qemu-io for full and partial lines, showing only letters and digits', () => {
    const bytes = new TextEncoder().encode('Hello, World! abcXYZ019');
    const buf = new Uint8Array([...bytes, 0x00, 0x7f, 0xff]);
    expect(hexdumpLines(buf, 0)).toEqual([
      '00000000:  48 65 6c 6c 6f 2c 20 57 6f 72 6c 64 21 20 61 62  Hello..World..ab',
      '00000010:  63 58 59 5a 30 31 39 00 7f ff  cXYZ019...',
    ]);
    expect(hexdumpLines(new Uint8Array(8).fill(0xab), 0x84)).toEqual(['00000084:  ab ab ab ab ab ab ab ab  ........']);
    expect(hexdumpLines(new Uint8Array(0), 0)).toEqual([]);
    expect(hexdumpLines(new Uint8Array(1), 2 ** 40)).toEqual(['10000000000:  00  .']);
  });
});
