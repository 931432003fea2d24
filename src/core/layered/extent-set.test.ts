import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExtentSet } from './extent-set.ts';

describe('ExtentSet', () => {
  it('agrees with a boolean array under random adds and removes', () => {
    const opArb = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 20 }));
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 30 }), (ops, qs, ql) => {
        const set = new ExtentSet();
        const model = new Array<boolean>(64).fill(false);
        for (const [add, start, len] of ops) {
          const end = Math.min(64, start + len);
          if (add) set.add(start, end);
          else set.remove(start, end);
          model.fill(add, start, end);
        }
        for (let i = 0; i < 64; i++) expect(set.has(i), `has(${i})`).toBe(model[i]);
        expect(set.total()).toBe(model.filter(Boolean).length);
        const within = set.within(qs, qs + ql);
        const covered = new Array<boolean>(64).fill(false);
        let prevEnd = -1;
        for (const [s, e] of within) {
          expect(s).toBeGreaterThan(prevEnd); // disjoint and not touching
          covered.fill(true, s, e);
          prevEnd = e;
        }
        for (let i = 0; i < 64; i++) expect(covered[i]).toBe(i >= qs && i < qs + ql && model[i]);
      }),
      { numRuns: 500 },
    );
  });

  it('stays exact for intervals near 2^53', () => {
    const set = new ExtentSet();
    const big = Number.MAX_SAFE_INTEGER - 10;
    set.add(0, big);
    set.remove(5, 6);
    expect(set.size).toBe(2);
    expect(set.total()).toBe(big - 1);
    expect(set.has(big - 1)).toBe(true);
    expect(set.has(5)).toBe(false);
  });
});
