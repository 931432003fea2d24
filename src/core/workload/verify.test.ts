import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkVerifyBlock, fillVerifyBlock } from './verify.ts';
import { crc32c } from '../checksum/crc32c.ts';
import { Prng } from './prng.ts';

describe('verify blocks', () => {
  it('uses CRC32C (Castagnoli)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });

  it('accepts what it wrote and pins any single corrupted byte to checksum (or header) failure', () => {
    const block = new Uint8Array(4096);
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 0xfffffffe }), fc.nat({ max: 4095 }), fc.integer({ min: 1, max: 255 }), (lba, gen, at, x) => {
        fillVerifyBlock(block, lba, gen, 9);
        expect(checkVerifyBlock(block, lba, gen)).toBeUndefined();
        expect(checkVerifyBlock(block, lba, undefined)).toBeUndefined();
        expect(checkVerifyBlock(block, lba, gen + 1)?.kind).toBe('generation');
        block[at]! ^= x;
        expect(checkVerifyBlock(block, lba, gen)).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it('passes a never-written block only if it does not pretend to be ours', () => {
    const block = new Uint8Array(512);
    expect(checkVerifyBlock(block, 5, undefined)).toBeUndefined();
    expect(checkVerifyBlock(block, 5, 3)).toMatchObject({ lba: 5, kind: 'magic' });
    fillVerifyBlock(block, 6, 1, 1);
    expect(checkVerifyBlock(block, 5, undefined)).toMatchObject({ lba: 5, kind: 'lba', expected: 5, found: 6 });
  });

  it('seeds the PRNG reproducibly with uniform ranges', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 1000 }, () => a.nextInt(10));
    expect(Array.from({ length: 1000 }, () => b.nextInt(10))).toEqual(xs);
    for (let d = 0; d < 10; d++) expect(xs.filter((x) => x === d).length).toBeGreaterThan(60);
    expect(new Prng(43).nextU32()).not.toBe(new Prng(42).nextU32());
  });
});
