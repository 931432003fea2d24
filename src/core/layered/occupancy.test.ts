import { describe, expect, it } from 'vitest';
import { maxSectorsFor } from '../disk/disk.ts';
import { bucketStart, occupancyFromRuns, pushRun } from './occupancy.ts';
import type { PresenceRun } from './layer.ts';

describe('occupancy helpers', () => {
  it('splits a range into buckets that differ in size by at most one, exactly at 2^53 scale', () => {
    const count = maxSectorsFor(512);
    const buckets = 4093;
    const big = BigInt(count);
    for (const b of [0, 1, 2046, 4092, 4093]) {
      expect(BigInt(bucketStart(b, buckets, count))).toBe((BigInt(b) * big) / BigInt(buckets));
    }
  });

  it('reports the covered fraction of each bucket', () => {
    const runs: PresenceRun[] = [
      { lba: 100, count: 5, state: 'data' },
      { lba: 107, count: 13, state: 'zero' },
    ];
    // 20 sectors from 100 in 4 buckets of 5.
    expect(Array.from(occupancyFromRuns(runs, 4, 100, 20))).toEqual([1, 0.6, 1, 1]);
    // More buckets than sectors: empty buckets report 0.
    expect(Array.from(occupancyFromRuns([{ lba: 0, count: 2, state: 'data' }], 4, 0, 2))).toEqual([0, 1, 0, 1]);
    expect(Array.from(occupancyFromRuns([], 3, 0, 0))).toEqual([0, 0, 0]);
  });

  it('merges touching runs of one state only', () => {
    const out: PresenceRun[] = [];
    pushRun(out, 0, 2, 'data');
    pushRun(out, 2, 3, 'data');
    pushRun(out, 5, 1, 'zero');
    pushRun(out, 7, 1, 'zero');
    pushRun(out, 8, 0, 'zero');
    expect(out).toEqual([
      { lba: 0, count: 5, state: 'data' },
      { lba: 5, count: 1, state: 'zero' },
      { lba: 7, count: 1, state: 'zero' },
    ]);
  });
});
