import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../core/stats/latency-histogram.ts';
import { intervalHistogram } from './interval.ts';

describe('intervalHistogram', () => {
  it('keeps only the samples added between two reads', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.add(1_000_000); // 1 ms, before the interval
    const before = h.storage.slice();
    for (let i = 0; i < 100; i++) h.add(50_000); // 50 us, in the interval
    const d = intervalHistogram([{ before, after: h.storage.slice() }]);
    expect(d.count).toBe(100);
    expect(Math.abs(d.percentile(99) - 50_000) / 50_000).toBeLessThan(0.01);
    expect(d.percentile(50)).toBeLessThan(60_000);
  });

  it('adds several op types and treats a missing "before" as empty', () => {
    const r = new LatencyHistogram();
    const w = new LatencyHistogram();
    r.add(10_000);
    w.add(200_000);
    w.add(200_000);
    const d = intervalHistogram([
      { before: undefined, after: r.storage },
      { before: undefined, after: w.storage },
    ]);
    expect(d.count).toBe(3);
    expect(d.percentile(1)).toBeLessThanOrEqual(10_100);
    expect(d.percentile(99)).toBeGreaterThan(190_000);
  });

  it('is empty when nothing happened', () => {
    const h = new LatencyHistogram();
    h.add(5);
    const s = h.storage.slice();
    expect(intervalHistogram([{ before: s, after: s }]).count).toBe(0);
  });
});
