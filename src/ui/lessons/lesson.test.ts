import { describe, expect, it } from 'vitest';
import { LESSONS, findLesson } from './catalog.ts';
import { validateLesson, type Lesson } from './lesson.ts';

const ok: Lesson = {
  id: 'tiny',
  number: 99,
  title: 'Tiny',
  summary: 'A test lesson.',
  mirrors: 'nothing real',
  status: 'ready',
  steps: [
    {
      title: 'Open',
      text: 'Opens a disk. Asks a question.',
      actions: [{ kind: 'open', name: 'd', stack: { kind: 'spec', spec: { kind: 'ram', sectors: 8 } } }],
      question: { kind: 'number', prompt: 'How many sectors?', probe: { kind: 'stack-fact', fact: 'sectorCount' } },
    },
  ],
};

describe('validateLesson', () => {
  it.each(LESSONS.map((l) => [l.id, l] as const))('accepts the shipped lesson %s', (_id, lesson) => {
    expect(validateLesson(lesson)).toEqual([]);
  });

  it('ships the ten lessons of issue 8 in order, all of them ready', () => {
    expect(LESSONS.map((l) => l.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(LESSONS.map((l) => l.id)).toEqual(['blocks', 'cow', 'formats', 'chains', 'queue-depth', 'remote', 'encryption', 'striping', 'reservations', 'block-jobs']);
    expect(LESSONS.filter((l) => l.status === 'coming')).toEqual([]);
    expect(new Set(LESSONS.map((l) => l.id)).size).toBe(10);
    expect(findLesson('cow')?.number).toBe(2);
    expect(findLesson('nope')).toBeUndefined();
    expect(findLesson(null)).toBeUndefined();
  });

  it('every ready lesson asks questions and marks a key step for its screenshot', () => {
    for (const l of LESSONS.filter((x) => x.status === 'ready')) {
      expect(l.steps.some((s) => s.question), l.id).toBe(true);
      expect(l.steps.filter((s) => s.key).length, l.id).toBe(1);
    }
  });

  it('accepts a minimal lesson', () => {
    expect(validateLesson(ok)).toEqual([]);
  });

  it('refuses actions and questions before a stack is open', () => {
    const bad: Lesson = { ...ok, steps: [{ title: 'x', text: 'y.', actions: [{ kind: 'shell', line: 'info' }], question: ok.steps[0]!.question! }] };
    const problems = validateLesson(bad);
    expect(problems.some((p) => p.includes("'shell' needs a stack"))).toBe(true);
    expect(problems.some((p) => p.includes('a question needs a stack'))).toBe(true);
  });

  it('refuses selecting an unopened stack, bad ids, missing citations and long text', () => {
    const bad: Lesson = {
      ...ok,
      id: 'Bad Id',
      mirrors: ' ',
      steps: [{ ...ok.steps[0]!, text: 'One. Two. Three. Four. Five.' }, { title: 's', text: 't.', actions: [{ kind: 'select', name: 'other' }] }],
    };
    const problems = validateLesson(bad).join('\n');
    expect(problems).toContain('kebab-case');
    expect(problems).toContain('cite');
    expect(problems).toContain('5 sentences');
    expect(problems).toContain("selects 'other'");
  });

  it('refuses a coming lesson with steps or without saying what it waits for', () => {
    expect(validateLesson({ ...ok, status: 'coming' }).join('\n')).toMatch(/has no steps yet[\s\S]*waits for/);
  });

  it('refuses a one-option choice, a shell probe without a capture group, and a negative tolerance', () => {
    const step = ok.steps[0]!;
    const bad: Lesson = {
      ...ok,
      steps: [
        { ...step, question: { kind: 'choice', prompt: 'p', options: ['only'], probe: { kind: 'busiest-member' } } },
        { title: 't', text: 'x.', question: { kind: 'number', prompt: 'p', probe: { kind: 'shell', line: 'info', match: 'sectors: \\d+' } } },
        { title: 't', text: 'x.', question: { kind: 'number', prompt: 'p', probe: { kind: 'shell', line: 'info', match: '(' } } },
        { title: 't', text: 'x.', question: { kind: 'number', prompt: 'p', probe: { kind: 'layer-bytes', layer: 0 }, tolerance: { relative: -1 } } },
      ],
    };
    const problems = validateLesson(bad).join('\n');
    expect(problems).toContain('at least two options');
    expect(problems).toContain('capture group');
    expect(problems).toContain('not a regular expression');
    expect(problems).toContain('negative tolerance');
  });
});
