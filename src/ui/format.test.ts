import { describe, expect, it } from 'vitest';
import { describeError, formatBytes, formatLatency, inUnit, latencyUnitFor, parseSize } from './format.ts';

describe('ui formatting', () => {
  it('formats binary sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(4096)).toBe('4.0 KiB');
    expect(formatBytes(8 * 1024 * 1024)).toBe('8.0 MiB');
    expect(formatBytes(300 * 1024 ** 3)).toBe('300 GiB');
  });
  it('switches latency units the way fio does', () => {
    expect(latencyUnitFor(9_999_999)).toBe('usec');
    expect(latencyUnitFor(10_000_000)).toBe('msec');
    expect(inUnit(87_100, 'usec')).toBe('87.10');
    expect(inUnit(12_345_678, 'msec')).toBe('12.35');
    expect(formatLatency(1_500)).toBe('1.50 usec');
    expect(formatLatency(2_500_000)).toBe('2.50 msec');
  });
  it('parses sizes with suffixes and rejects the rest', () => {
    expect(parseSize('4k')).toBe(4096);
    expect(parseSize('1M')).toBe(1048576);
    expect(parseSize('64KiB')).toBe(65536);
    expect(parseSize('12')).toBe(12);
    expect(parseSize('x')).toBeUndefined();
    expect(parseSize('-4k')).toBeUndefined();
  });
  it('puts a DiskError code in front of the message', () => {
    const e = Object.assign(new Error('file is open elsewhere'), { code: 'LOCKED' });
    expect(describeError(e)).toBe('LOCKED: file is open elsewhere');
    expect(describeError('plain')).toBe('plain');
  });
});
