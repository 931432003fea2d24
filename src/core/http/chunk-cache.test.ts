import { describe, expect, it } from 'vitest';
import { ChunkCache, chunkOf, copyOut } from './chunk-cache.ts';
import { pattern } from '../testing/disk-conformance.ts';

const chunk = (n: number, seed = n) => chunkOf([pattern(n, seed)]);

describe('ChunkCache', () => {
  it('evicts least recently used chunks to stay within its capacity', () => {
    const cache = new ChunkCache(300);
    cache.put(1, chunk(100));
    cache.put(2, chunk(100));
    cache.put(3, chunk(100));
    expect(cache.get(1)).toBeDefined(); // 2 is now the oldest
    cache.put(4, chunk(100));
    expect(cache.indexes()).toEqual([1, 3, 4]);
    expect(cache.bytes).toBe(300);
    cache.put(5, chunk(250)); // needs room for 250: evicts 3, then 4 and 1
    expect(cache.indexes()).toEqual([5]);
    expect(cache.bytes).toBe(250);
  });

  it('replaces a chunk put twice, holds nothing larger than itself, and clears', () => {
    const cache = new ChunkCache(100);
    cache.put(1, chunk(60));
    cache.put(1, chunk(40));
    expect(cache.bytes).toBe(40);
    cache.put(2, chunk(101));
    expect(cache.has(2)).toBe(false);
    expect(new ChunkCache(0).count).toBe(0);
    cache.clear();
    expect(cache.count).toBe(0);
    expect(cache.bytes).toBe(0);
    expect(() => new ChunkCache(-1)).toThrow(RangeError);
  });

  it('copies any window of a chunk made of pieces', () => {
    const whole = pattern(1000, 4);
    const c = chunkOf([whole.subarray(0, 1), whole.subarray(1, 300), whole.subarray(300, 300), whole.subarray(300, 1000)]);
    expect(c.length).toBe(1000);
    for (const [from, to] of [[0, 1000], [0, 1], [1, 300], [299, 301], [500, 999], [999, 1000], [10, 10]] as const) {
      const out = new Uint8Array(to - from + 4).fill(0xee);
      copyOut(c, from, to, out, 2);
      expect([...out.subarray(2, 2 + to - from)]).toEqual([...whole.subarray(from, to)]);
      expect(out[0]).toBe(0xee);
      expect(out[out.length - 1]).toBe(0xee);
    }
  });
});
