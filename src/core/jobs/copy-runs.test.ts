import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachNonZeroRun } from './copy-runs.ts';

/** The definition: block by block, a block is data unless every byte in it is zero. */
function naiveRuns(chunk: Uint8Array, block: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = 0; at < chunk.length; at += block) {
    const end = Math.min(chunk.length, at + block);
    if (!chunk.subarray(at, end).some((b) => b !== 0)) continue;
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === at) last[1] += end - at;
    else out.push([at, end - at]);
  }
  return out;
}

describe('forEachNonZeroRun', () => {
  it('finds the maximal runs of non-zero blocks, aligned or not, whatever byte is set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }), // byte offset of the view into its buffer
        fc.integer({ min: 0, max: 40 }), // length in 16-byte units
        fc.constantFrom(16, 32, 48),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
        (shift, units, block, sets) => {
          const backing = new Uint8Array(shift + units * 16 + 3);
          const chunk = backing.subarray(shift, shift + units * 16);
          if (chunk.length > 0) for (const [at, v] of sets) chunk[at % chunk.length] = v;
          backing[shift + chunk.length] = 9; // a byte just past the view must not count
          const got: Array<[number, number]> = [];
          forEachNonZeroRun(chunk, block, (offset, length) => got.push([offset, length]));
          expect(got).toEqual(naiveRuns(chunk, block));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
