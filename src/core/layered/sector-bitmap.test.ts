import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDiskError } from '../disk/errors.ts';
import { countBits, fillBits, findBit, forEachRun, SectorBitmap, wordsFor } from './sector-bitmap.ts';

describe('bit helpers', () => {
  it('agree with a boolean array under random fills', () => {
    const opArb = fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 100 }), fc.boolean());
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(opArb, { maxLength: 20 }), fc.integer({ min: 0, max: 100 }), (n, ops, probe) => {
        const bits = new Uint32Array(wordsFor(n));
        const model = new Array<boolean>(n).fill(false);
        for (const [start, len, value] of ops) {
          const s = start % n;
          const c = Math.min(len, n - s);
          fillBits(bits, s, c, value);
          model.fill(value, s, s + c);
        }
        const from = probe % (n + 1);
        expect(countBits(bits, from, n - from)).toBe(model.slice(from).filter(Boolean).length);
        for (const value of [true, false]) {
          const idx = model.findIndex((x, i) => i >= from && x === value);
          expect(findBit(bits, from, n, value)).toBe(idx === -1 ? n : idx);
          const runs: number[][] = [];
          forEachRun(bits, 0, n, value, (s, l) => runs.push([s, l]));
          const expected: number[][] = [];
          for (let i = 0; i < n; i++) {
            if (model[i] !== value) continue;
            const last = expected[expected.length - 1];
            if (last && last[0]! + last[1]! === i) last[1]!++;
            else expected.push([i, 1]);
          }
          expect(runs).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('SectorBitmap', () => {
  it('tracks marks in absolute LBAs and lists runs', () => {
    const map = new SectorBitmap(1000, 40);
    map.mark(1003, 5);
    map.mark(1005, 10); // overlapping marks count once
    map.mark(1039, 1);
    expect(map.setCount).toBe(13);
    expect(map.has(1003)).toBe(true);
    expect(map.has(1002)).toBe(false);
    expect(map.runs(true)).toEqual([[1003, 12], [1039, 1]]);
    expect(map.runs(false)).toEqual([[1000, 3], [1015, 24]]);
    const copy = map.clone();
    map.mark(1000, 40);
    expect(map.full).toBe(true);
    expect(copy.setCount).toBe(13);
  });

  it('rejects marks outside its request', () => {
    const map = new SectorBitmap(10, 5);
    for (const [lba, n] of [[9, 1], [14, 2], [10, -1], [10.5, 1]] as const) {
      let error: unknown;
      try {
        map.mark(lba, n);
      } catch (e) {
        error = e;
      }
      expect(isDiskError(error, 'INVALID_INPUT')).toBe(true);
    }
    expect(map.setCount).toBe(0);
  });
});
