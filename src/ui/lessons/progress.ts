/**
 * Progress per lesson, remembered in localStorage: the furthest step reached, which questions were
 * answered right, and whether the lesson was finished. Unreadable or foreign data reads as no
 * progress; storage that refuses writes (private mode, quota) is ignored: progress is a comfort,
 * never a reason for the lab to fail.
 */
export interface LessonProgress {
  /** Index of the step the student is on. */
  readonly step: number;
  /** Indexes of steps whose question was answered right. */
  readonly answered: readonly number[];
  readonly done: boolean;
}

export const PROGRESS_KEY = 'disklab.lessons.progress.v1';

export type ProgressMap = Readonly<Record<string, LessonProgress>>;

/** A store that looks like localStorage (so tests pass a Map-backed one). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function isProgress(v: unknown): v is LessonProgress {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return Number.isInteger(p.step) && (p.step as number) >= 0 && Array.isArray(p.answered) && p.answered.every((n) => Number.isInteger(n)) && typeof p.done === 'boolean';
}

export function loadProgress(store: KeyValueStore | undefined): ProgressMap {
  try {
    const raw = store?.getItem(PROGRESS_KEY);
    if (!raw) return {};
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => isProgress(v))) as ProgressMap;
  } catch {
    return {};
  }
}

export function saveProgress(store: KeyValueStore | undefined, map: ProgressMap): void {
  try {
    store?.setItem(PROGRESS_KEY, JSON.stringify(map));
  } catch {
    // See the module doc: storage refusing is not the lab's failure.
  }
}

/** The progress after reaching `step` of a lesson with `stepCount` steps (and maybe answering it). */
export function advance(previous: LessonProgress | undefined, step: number, stepCount: number, answeredStep?: number): LessonProgress {
  const answered = new Set(previous?.answered ?? []);
  if (answeredStep !== undefined) answered.add(answeredStep);
  const done = (previous?.done ?? false) || step >= stepCount;
  return { step: Math.min(step, Math.max(0, stepCount - 1)), answered: [...answered].sort((a, b) => a - b), done };
}

/** localStorage when the page has it. */
export function browserStore(): KeyValueStore | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}
