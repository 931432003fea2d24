import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c, crc32cWithZeroedField } from './crc32c.ts';

/** The textbook bit-at-a-time definition, as the reference. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check values (RFC 3720 B.4)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('equals the bit-at-a-time definition at every length and offset, and chains', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
        const at = Math.min(cut, data.length);
        expect(crc32c(data)).toBe(reference(data));
        expect(crc32c(data.subarray(at), crc32c(data.subarray(0, at)))).toBe(reference(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('computes a checksum with its own field zeroed without copying', () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
    const zeroed = data.slice();
    zeroed.fill(0, 4, 8);
    expect(crc32cWithZeroedField(data, 4)).toBe(reference(zeroed));
  });
});
