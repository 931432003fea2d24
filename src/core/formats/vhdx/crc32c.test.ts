import { describe, expect, it } from 'vitest';
import { crc32c, crc32cWithZeroedField } from './crc32c.ts';
import { guidBytes, guidText } from './guid.ts';

describe('crc32c', () => {
  it('matches the published CRC-32C check value and the RFC 3720 vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('computes with a field taken as zero exactly as if it were zeroed', () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff);
    const zeroed = bytes.slice();
    zeroed.fill(0, 4, 8);
    expect(crc32cWithZeroedField(bytes, 4)).toBe(crc32c(zeroed));
    expect(crc32cWithZeroedField(bytes, 4)).not.toBe(crc32c(bytes));
  });
});

describe('guid', () => {
  it('stores the first three fields little-endian and round-trips', () => {
    const bytes = guidBytes('2DC27766-F623-4200-9D64-115E9BFD4A08');
    expect([...bytes]).toEqual([0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08]);
    expect(guidText(bytes)).toBe('2DC27766-F623-4200-9D64-115E9BFD4A08');
    expect(() => guidBytes('not-a-guid')).toThrow();
  });
});
