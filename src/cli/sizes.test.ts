import { describe, expect, it } from 'vitest';
import { DiskConfigError } from '../core/disk/errors.ts';
import { humanSize, parseSize, roundUpToSector } from './sizes.ts';

describe('parseSize (qemu-img syntax)', () => {
  it('reads bytes and binary suffixes, case-insensitively', () => {
    expect(parseSize('0')).toBe(0);
    expect(parseSize('1000')).toBe(1000);
    expect(parseSize('10b')).toBe(10);
    expect(parseSize('1k')).toBe(1024);
    expect(parseSize('1K')).toBe(1024);
    expect(parseSize('10M')).toBe(10 * 2 ** 20);
    expect(parseSize('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseSize('2T')).toBe(2 * 2 ** 40);
    expect(parseSize('1P')).toBe(2 ** 50);
  });

  it('rejects what qemu-img rejects, with a DiskConfigError naming size', () => {
    for (const bad of ['', 'x', '10x', '-1', '1.5', '1.5b', '0x10', '1e3', '10 M', '1.0001k', '8E', '99999999999999999999']) {
      expect(() => parseSize(bad), bad).toThrow(DiskConfigError);
    }
  });
});

describe('humanSize (qemu size_to_str)', () => {
  it('prints three significant digits with binary units', () => {
    expect(humanSize(0)).toBe('0 B');
    expect(humanSize(999)).toBe('999 B');
    expect(humanSize(1000)).toBe('0.977 KiB');
    expect(humanSize(1024)).toBe('1 KiB');
    expect(humanSize(73728)).toBe('72 KiB');
    expect(humanSize(10514432)).toBe('10 MiB');
    expect(humanSize(1610612736)).toBe('1.5 GiB');
    expect(humanSize(2 ** 40)).toBe('1 TiB');
  });
});

describe('roundUpToSector', () => {
  it('rounds up to 512', () => {
    expect([0, 1, 511, 512, 513, 1000].map(roundUpToSector)).toEqual([0, 512, 512, 512, 1024, 1024]);
  });
});
