import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DirtyBitmap } from './dirty-bitmap.ts';

describe('DirtyBitmap', () => {
  it('agrees with a per-granule boolean model under random marks and clears', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom(1, 2, 8, 64),
        fc.array(fc.tuple(fc.boolean(), fc.nat(3100), fc.nat(400)), { maxLength: 40 }),
        (sectors, granule, ops) => {
          const bitmap = new DirtyBitmap(sectors, granule);
          const granules = Math.ceil(sectors / granule);
          const model = new Array<boolean>(granules).fill(false);
          for (const [mark, lba, count] of ops) {
            if (mark) bitmap.mark(lba, count);
            else bitmap.clear(lba, count);
            const end = Math.min(sectors, lba + count);
            if (end > lba) model.fill(mark, Math.floor(lba / granule), Math.ceil(end / granule));
          }
          const bySector = new Array<boolean>(sectors).fill(false);
          for (const r of bitmap.runs()) bySector.fill(true, r.lba, r.lba + r.count);
          const expected = Array.from({ length: sectors }, (_, s) => model[Math.floor(s / granule)]);
          expect(bySector).toEqual(expected);
          const probes = Array.from({ length: Math.ceil(sectors / 7) }, (_, i) => i * 7);
          expect(probes.map((s) => bitmap.has(s))).toEqual(probes.map((s) => expected[s]));
          expect(bitmap.dirtySectors()).toBe(bySector.filter(Boolean).length);
          expect(bitmap.empty).toBe(!model.includes(true));
          const first = bitmap.first(3 * granule);
          const firstDirty = model.indexOf(true);
          if (firstDirty < 0) expect(first).toBeUndefined();
          else expect(first?.lba).toBe(firstDirty * granule);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('clones, merges and stays cheap for a 2^53-byte disk', () => {
    const sectors = Math.floor(Number.MAX_SAFE_INTEGER / 512);
    const a = new DirtyBitmap(sectors, 128);
    a.markAll();
    a.clear(1000, 10);
    expect(a.runs().length).toBe(2);
    const b = a.clone();
    a.clearAll();
    expect(a.empty).toBe(true);
    a.mark(0, 1);
    a.merge(b);
    expect(a.dirtySectors()).toBe(sectors - 128);
    expect(() => new DirtyBitmap(10, 3)).toThrow(/granule/);
  });
});
