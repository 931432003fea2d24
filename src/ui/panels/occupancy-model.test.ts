import { describe, expect, it } from 'vitest';
import type { Occupancy } from '../../../workers/api.ts';
import { bucketRange, cellsOf, firstTopLba, sectorsHeld, topCounts } from './occupancy-model.ts';

const occupancy: Occupancy = {
  lba: 100,
  count: 10,
  buckets: 4,
  layers: [
    { index: 0, name: 'ram', map: new Float64Array([0, 0.5, 0, 0]) },
    { index: 1, name: 'base', map: new Float64Array([1, 1, 0, 0.5]) },
  ],
};

describe('occupancy model', () => {
  it('colours each bucket by the topmost layer holding any of it', () => {
    expect(cellsOf(occupancy)).toEqual([
      { top: 1, fraction: 1 },
      { top: 0, fraction: 0.5 },
      { top: -1, fraction: 0 },
      { top: 1, fraction: 0.5 },
    ]);
    expect(topCounts(cellsOf(occupancy))).toEqual({ 0: 1, 1: 2, [-1]: 1 });
    expect(firstTopLba(occupancy, cellsOf(occupancy))).toEqual({ 0: 102, 1: 100 });
  });

  it('names the sectors of each bucket the way core divides them', () => {
    const ranges = [0, 1, 2, 3].map((b) => bucketRange(occupancy, b));
    expect(ranges).toEqual([
      { lba: 100, count: 2 },
      { lba: 102, count: 3 },
      { lba: 105, count: 2 },
      { lba: 107, count: 3 },
    ]);
    expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(10);
  });

  it('counts the sectors each layer holds', () => {
    const held = sectorsHeld({ ...occupancy, layers: [{ index: 0, name: 'ram', map: new Float64Array([0, 2 / 3, 0, 0]) }] });
    expect(held).toEqual([{ index: 0, name: 'ram', sectors: 2 }]);
  });
});
