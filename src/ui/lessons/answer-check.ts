/**
 * Checks a student's answer against the live value a probe read. Pure: no lab, no DOM.
 *
 * - Choice answers match the live value exactly (after trimming; case-insensitive).
 * - Number answers accept the usual ways of typing a number ("4096", "4 096", "4,096", "0x1000",
 *   "1.5e3") and are right within the question's tolerance: relative to the live value, or
 *   absolute, whichever is wider; exact when the question gives neither.
 *
 * Errors: none thrown; an answer that is not a number is a wrong answer with a reason.
 */
import type { Question } from './lesson.ts';

export type LiveValue = string | number;

export interface Verdict {
  readonly right: boolean;
  /** Why a wrong answer is wrong (never gives the value away). */
  readonly reason?: string;
}

/** Parses what a student typed as a number, or undefined. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim().replace(/[\s_]/g, '');
  if (t === '') return undefined;
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  // A comma between digit groups of three is a thousands separator; a lone decimal comma is a point.
  const normalised = /^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t) ? t.replace(/,/g, '') : t.replace(',', '.');
  if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(normalised)) return undefined;
  const n = Number(normalised);
  return Number.isFinite(n) ? n : undefined;
}

/** Whether `answer` is within `tolerance` of `live`. */
export function withinTolerance(answer: number, live: number, tolerance: { readonly relative?: number; readonly absolute?: number } = {}): boolean {
  const allowed = Math.max(Math.abs(live) * (tolerance.relative ?? 0), tolerance.absolute ?? 0);
  // A little slack for floating-point noise in exact comparisons of computed values.
  return Math.abs(answer - live) <= allowed + 1e-9 * Math.max(1, Math.abs(live));
}

export function checkAnswer(question: Question, answer: string, live: LiveValue): Verdict {
  if (question.kind === 'choice') {
    const right = answer.trim().toLowerCase() === String(live).trim().toLowerCase();
    return right ? { right } : { right, reason: answer.trim() === '' ? 'Choose one of the options.' : 'That is not what the lab shows.' };
  }
  const n = parseNumber(answer);
  if (n === undefined) return { right: false, reason: 'Type a number.' };
  if (typeof live !== 'number') return { right: false, reason: `The lab has no figure to check against (${live}).` };
  if (withinTolerance(n, live, question.tolerance)) return { right: true };
  return { right: false, reason: n < live ? 'Too low.' : 'Too high.' };
}

/** How the player shows a live value (numbers rounded for reading, not for checking). */
export function formatLive(value: LiveValue): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
