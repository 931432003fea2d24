import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { coalesce, readaheadPlan, RequestLimiter, SequentialDetector } from './read-planner.ts';

describe('coalesce', () => {
  it('groups consecutive indexes into runs no longer than the limit', () => {
    expect(coalesce([1, 2, 3, 5, 6, 9], 8)).toEqual([{ first: 1, count: 3 }, { first: 5, count: 2 }, { first: 9, count: 1 }]);
    expect(coalesce([0, 1, 2, 3, 4], 2)).toEqual([{ first: 0, count: 2 }, { first: 2, count: 2 }, { first: 4, count: 1 }]);
    expect(coalesce([], 4)).toEqual([]);
  });

  it('property: every index lands in exactly one run, in order, runs within the limit', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(200)), fc.integer({ min: 1, max: 10 }), (raw, max) => {
        const indexes = [...raw].sort((a, b) => a - b);
        const runs = coalesce(indexes, max);
        expect(runs.flatMap((r) => Array.from({ length: r.count }, (_, k) => r.first + k))).toEqual(indexes);
        expect(runs.every((r) => r.count >= 1 && r.count <= max)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('SequentialDetector', () => {
  it('counts reads that continue where the last ended (same or next chunk), and resets on a jump back or away', () => {
    const d = new SequentialDetector();
    expect(d.observe(0, 0, 0)).toBe(0);
    expect(d.observe(100, 0, 0)).toBe(1);
    expect(d.observe(5000, 1, 1)).toBe(2);
    expect(d.observe(9000, 2, 3)).toBe(3);
    expect(d.observe(50_000, 12, 12)).toBe(0);
    expect(d.observe(40_000, 12, 12)).toBe(0); // backwards within the chunk
  });
});

describe('readaheadPlan', () => {
  it('asks for the absent chunks of the window once fewer than half are present, never past the end', () => {
    const present = new Set<number>();
    expect(readaheadPlan(0, 4, 100, (i) => present.has(i))).toEqual([1, 2, 3, 4]);
    [1, 2].forEach((i) => present.add(i));
    expect(readaheadPlan(0, 4, 100, (i) => present.has(i))).toEqual([]);
    expect(readaheadPlan(1, 4, 100, (i) => present.has(i))).toEqual([3, 4, 5]);
    expect(readaheadPlan(97, 4, 100, () => false)).toEqual([98, 99]);
    expect(readaheadPlan(99, 4, 100, () => false)).toEqual([]);
    expect(readaheadPlan(0, 0, 100, () => false)).toEqual([]);
  });
});

describe('RequestLimiter', () => {
  it('admits up to its limit and hands slots to waiters in order', async () => {
    const limiter = new RequestLimiter(2);
    expect(limiter.tryAcquire()).toBe(true);
    await limiter.acquire();
    expect(limiter.tryAcquire()).toBe(false);
    const order: number[] = [];
    const a = limiter.acquire().then(() => order.push(1));
    const b = limiter.acquire().then(() => order.push(2));
    expect(limiter.queued).toBe(2);
    limiter.release();
    await a;
    expect(limiter.tryAcquire()).toBe(false); // b still waits: nobody jumps the queue
    limiter.release();
    await b;
    expect(order).toEqual([1, 2]);
    expect(limiter.active).toBe(2);
    limiter.release();
    limiter.release();
    expect(limiter.active).toBe(0);
  });
});
