import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FIO_DEFAULT_PERCENTILES,
  LatencyHistogram,
  PLAT_NR,
  bucketBounds,
  bucketIndexOf,
  bucketValue,
  percentileRank,
} from './latency-histogram.ts';

/** fio's plat_val_to_idx, written with BigInt bit operations as an independent oracle. */
function fioIndex(v: number): number {
  const b = BigInt(v);
  if (b === 0n) return 0;
  const msb = b.toString(2).length - 1;
  if (msb <= 6) return v;
  const errorBits = msb - 6;
  const idx = (errorBits + 1) * 64 + Number((b >> BigInt(errorBits)) & 63n);
  return Math.min(idx, PLAT_NR - 1);
}

const LAST_EXACT = 2 ** 34; // values below this are represented within 1/128

describe('fio bucket scheme', () => {
  it('has fio’s geometry: 29 groups of 64, exact below 128 ns, 17.2 s ceiling', () => {
    expect(PLAT_NR).toBe(1856);
    for (let v = 0; v < 128; v++) expect(bucketIndexOf(v)).toBe(v);
    expect(bucketIndexOf(128)).toBe(128);
    expect(bucketIndexOf(129)).toBe(128);
    expect(bucketIndexOf(130)).toBe(129);
    expect(bucketBounds(PLAT_NR - 1).highNs).toBe(LAST_EXACT);
    expect(bucketIndexOf(LAST_EXACT * 1000)).toBe(PLAT_NR - 1);
  });

  it('matches an independent bit-level version of fio’s index function', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (v) => {
        expect(bucketIndexOf(v)).toBe(fioIndex(v));
      }),
      { numRuns: 3000 },
    );
    for (let k = 7; k < 40; k++) {
      for (const v of [2 ** k - 1, 2 ** k, 2 ** k + 1]) expect(bucketIndexOf(v)).toBe(fioIndex(v));
    }
  });

  it('tiles the value line: each bucket starts where the previous one ends and holds its own bounds', () => {
    for (let i = 1; i < PLAT_NR; i++) {
      const { lowNs, highNs } = bucketBounds(i);
      expect(lowNs).toBe(bucketBounds(i - 1).highNs);
      expect(bucketIndexOf(lowNs)).toBe(i);
      expect(bucketIndexOf(highNs - 1)).toBe(i);
      expect(bucketValue(i)).toBeGreaterThanOrEqual(lowNs);
      expect(bucketValue(i)).toBeLessThan(highNs);
    }
  });
});

describe('LatencyHistogram', () => {
  it('tracks count, min, max and mean exactly, and reports 0 when empty', () => {
    const h = new LatencyHistogram();
    expect([h.count, h.min, h.max, h.mean, h.percentile(50)]).toEqual([0, 0, 0, 0, 0]);
    for (const v of [1000, 5, 123456789, 42]) h.add(v);
    expect(h.count).toBe(4);
    expect(h.min).toBe(5);
    expect(h.max).toBe(123456789);
    expect(h.mean).toBe((1000 + 5 + 123456789 + 42) / 4);
    expect(h.percentile(0)).toBe(5);
    expect(h.percentile(100)).toBe(123456789);
  });

  it('rejects percentiles outside [0, 100]', () => {
    const h = new LatencyHistogram();
    h.add(1);
    expect(() => h.percentile(101)).toThrow(RangeError);
    expect(() => h.percentile(-1)).toThrow(RangeError);
    expect(() => h.percentile(Number.NaN)).toThrow(RangeError);
  });

  it('uses fio’s rank rule, treating float noise as integers', () => {
    expect(percentileRank(50, 10)).toBe(5);
    expect(percentileRank(99.99, 10000)).toBe(9999);
    expect(percentileRank(99.5, 3)).toBe(3);
    expect(percentileRank(0, 10)).toBe(1);
    expect(percentileRank(1, 1)).toBe(1);
  });

  it('estimates every percentile within 1/128 of the exact sorted-sample value', () => {
    const sample = fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 200_000 }),
      fc.integer({ min: 0, max: LAST_EXACT - 1 }),
    );
    const percent = fc.oneof(fc.constantFrom(...FIO_DEFAULT_PERCENTILES, 0, 100), fc.double({ min: 0, max: 100, noNaN: true }));
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 400 }), fc.array(percent, { minLength: 1, maxLength: 20 }), (values, ps) => {
        const h = new LatencyHistogram();
        for (const v of values) h.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        const got = h.percentiles(ps);
        ps.forEach((p, i) => {
          const exact = sorted[percentileRank(p, sorted.length) - 1]!;
          expect(got[i]!.percentile).toBe(p);
          expect(Math.abs(got[i]!.ns - exact)).toBeLessThanOrEqual(exact / 128);
          expect(h.percentile(p)).toBe(got[i]!.ns);
        });
      }),
      { numRuns: 1500 },
    );
  });

  it('returns the exact value for latencies below 128 ns', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) h.add(v);
    expect(h.percentiles([1, 50, 99, 100]).map((x) => x.ns)).toEqual([1, 50, 99, 100]);
  });

  it('clamps estimates for latencies past the last bucket into the exact [min, max]', () => {
    const h = new LatencyHistogram();
    h.add(60e9);
    h.add(61e9);
    h.add(62e9);
    // All three share the last bucket, whose midpoint (~17.1 s) is far below them.
    expect(h.percentile(50)).toBe(60e9);
    expect(h.percentile(1)).toBe(60e9);
    expect(h.percentile(100)).toBe(62e9);
    expect(h.percentile(99)).toBe(62e9);
  });

  it('merges to the same state as adding everything into one', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1e9)), fc.array(fc.nat(1e9)), (a, b) => {
        const ha = new LatencyHistogram();
        const hb = new LatencyHistogram();
        const all = new LatencyHistogram();
        a.forEach((v) => (ha.add(v), all.add(v)));
        b.forEach((v) => (hb.add(v), all.add(v)));
        ha.merge(hb);
        expect(ha.snapshot()).toEqual(all.snapshot());
        const viaSnapshot = LatencyHistogram.fromSnapshot(hb.snapshot());
        expect(viaSnapshot.snapshot()).toEqual(hb.snapshot());
      }),
      { numRuns: 300 },
    );
  });

  it('snapshots as plain, structured-cloneable arrays of the non-empty buckets', () => {
    const h = new LatencyHistogram();
    [10, 10, 5000, 5001].forEach((v) => h.add(v));
    const snap = h.snapshot();
    expect(snap.bucketIndex).toEqual([10, bucketIndexOf(5000)]);
    expect(snap.bucketCount).toEqual([2, 2]);
    expect(structuredClone(snap)).toEqual(snap);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('rejects inconsistent snapshots', () => {
    const h = new LatencyHistogram();
    const base = { count: 1, sumNs: 5, minNs: 5, maxNs: 5, bucketIndex: [5], bucketCount: [1] };
    expect(() => h.merge({ ...base, bucketCount: [2] })).toThrow(RangeError);
    expect(() => h.merge({ ...base, bucketIndex: [PLAT_NR] })).toThrow(RangeError);
    expect(() => h.merge({ ...base, bucketIndex: [] })).toThrow(RangeError);
    expect(h.count).toBe(0);
  });

  it('lives entirely in a caller-provided Float64Array, shareable between two views', () => {
    const storage = new Float64Array(new SharedArrayBuffer(LatencyHistogram.STORAGE_LENGTH * 8));
    const writer = new LatencyHistogram(storage);
    const reader = new LatencyHistogram(storage);
    writer.add(300);
    writer.add(700);
    expect(reader.count).toBe(2);
    expect(reader.mean).toBe(500);
    expect(reader.bucketCount(bucketIndexOf(300))).toBe(1);
    reader.reset();
    expect(writer.count).toBe(0);
    expect(() => new LatencyHistogram(new Float64Array(10))).toThrow(RangeError);
  });
});
