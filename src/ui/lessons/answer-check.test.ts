import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAnswer, formatLive, parseNumber, withinTolerance } from './answer-check.ts';
import type { Question } from './lesson.ts';

const exact: Question = { kind: 'number', prompt: 'p', probe: { kind: 'layer-bytes', layer: 0 } };
const tenPercent: Question = { ...exact, tolerance: { relative: 0.1 } };
const choice: Question = { kind: 'choice', prompt: 'p', options: ['member 0', 'member 1'], probe: { kind: 'busiest-member' } };

describe('parseNumber', () => {
  it.each([
    ['4096', 4096],
    [' 4 096 ', 4096],
    ['4,096', 4096],
    ['1,234,567.5', 1234567.5],
    ['2,5', 2.5],
    ['0x1000', 4096],
    ['1.5e3', 1500],
    ['.5', 0.5],
    ['-3', -3],
  ])('reads %j as %d', (text, n) => expect(parseNumber(text)).toBe(n));

  it.each(['', 'abc', '12abc', '0x', '1..2', 'Infinity', 'NaN'])('refuses %j', (text) => expect(parseNumber(text)).toBeUndefined());

  it('reads back any finite number it printed', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => parseNumber(String(n)) === n || Object.is(n, -0)), { numRuns: 2000 });
  });
});

describe('checkAnswer', () => {
  it('judges exact numbers exactly', () => {
    expect(checkAnswer(exact, '4096', 4096).right).toBe(true);
    expect(checkAnswer(exact, '4097', 4096)).toEqual({ right: false, reason: 'Too high.' });
    expect(checkAnswer(exact, '4095', 4096)).toEqual({ right: false, reason: 'Too low.' });
    expect(checkAnswer(exact, 'lots', 4096)).toEqual({ right: false, reason: 'Type a number.' });
  });

  it('accepts within a relative tolerance and refuses just outside it', () => {
    expect(checkAnswer(tenPercent, '450', 500).right).toBe(true);
    expect(checkAnswer(tenPercent, '550', 500).right).toBe(true);
    expect(checkAnswer(tenPercent, '449', 500).right).toBe(false);
    expect(checkAnswer(tenPercent, '551', 500).right).toBe(false);
  });

  it('uses the wider of relative and absolute tolerance', () => {
    expect(withinTolerance(3, 1, { relative: 0.1, absolute: 2 })).toBe(true);
    expect(withinTolerance(3.5, 1, { relative: 0.1, absolute: 2 })).toBe(false);
    expect(withinTolerance(0.1 + 0.2, 0.3)).toBe(true);
  });

  it('a number question against a non-numeric live value is wrong, with the reason', () => {
    expect(checkAnswer(exact, '1', 'refused').right).toBe(false);
  });

  it('accepts exactly the live choice, case and spacing aside', () => {
    expect(checkAnswer(choice, 'member 1', 'member 1').right).toBe(true);
    expect(checkAnswer(choice, ' Member 1 ', 'member 1').right).toBe(true);
    expect(checkAnswer(choice, 'member 0', 'member 1').right).toBe(false);
    expect(checkAnswer(choice, '', 'member 1').reason).toBe('Choose one of the options.');
  });

  it('any value formatted for display is accepted within 10% (what the e2e run types back)', () => {
    fc.assert(fc.property(fc.double({ min: 1e-3, max: 1e7, noNaN: true }), (live) => checkAnswer(tenPercent, formatLive(live), live).right), { numRuns: 2000 });
  });
});
