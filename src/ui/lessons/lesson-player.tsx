/**
 * The lesson player: shows one step at a time, runs its setup actions on the real lab through a
 * LessonSession, points at the panel to look at, and asks its question (lesson-question.tsx).
 * Starting at a later step (resumed progress, a deep link) replays the earlier steps' actions so
 * the lab is in the state the step expects. "Free play" leaves the student in the lab with the
 * lesson's stacks; "Close lesson" closes them.
 *
 * Failures of an action are shown in the step (with a retry), never thrown.
 */
import { useEffect, useRef, useState } from 'react';
import { useLab } from '../lab/lab-context.tsx';
import { useWorkload } from '../workload/workload-context.tsx';
import type { Lesson } from './lesson.ts';
import { LessonQuestion } from './lesson-question.tsx';
import { LessonSession } from './lesson-session.ts';
import { JobState } from './job-state.tsx';
import { ReservationState } from './reservation-state.tsx';
import { usePanelFocus } from './use-panel-focus.ts';

export interface LessonPlayerProps {
  readonly lesson: Lesson;
  readonly startStep: number;
  readonly onStep: (step: number, answered?: boolean) => void;
  readonly onClose: () => void;
  readonly onFreePlay: () => void;
}

type StepState = { readonly kind: 'running' } | { readonly kind: 'ready'; readonly options: readonly string[] } | { readonly kind: 'failed'; readonly error: string };

/** How long the player waits for the page's own first stack (the sample) before acting, so it does not take the panels away. */
const SETTLE_MS = 5000;

export function LessonPlayer({ lesson, startStep, onStep, onClose, onFreePlay }: LessonPlayerProps) {
  const lab = useLab();
  const { runner } = useWorkload();
  const env = useRef({ lab, runner });
  env.current = { lab, runner };
  const session = useRef<LessonSession | undefined>(undefined);
  session.current ??= new LessonSession(() => env.current);
  const [step, setStep] = useState(startStep);
  const [state, setState] = useState<StepState>({ kind: 'running' });
  const [attempt, setAttempt] = useState(0);
  const [output, setOutput] = useState<readonly string[]>([]);
  const started = useRef<string | undefined>(undefined);
  const replayed = useRef(-1);
  const current = lesson.steps[step];

  useEffect(() => {
    // StrictMode runs effects twice in development: the actions must run once per step.
    const key = `${step}:${attempt}`;
    if (started.current === key) return;
    started.current = key;
    const s = session.current!;
    setState({ kind: 'running' });
    void (async () => {
      try {
        await settle(() => env.current.lab.stacks.length > 0, SETTLE_MS);
        const from = replayed.current < 0 ? 0 : step;
        for (let i = Math.min(from, step); i <= step; i++) {
          for (const action of lesson.steps[i]?.actions ?? []) {
            await s.run(action);
            setOutput(s.output);
          }
        }
        replayed.current = step;
        if (s.activeStack !== undefined) env.current.lab.select(s.activeStack);
        const q = lesson.steps[step]?.question;
        const options = q?.kind === 'choice' ? (q.options === 'layers' ? await s.layerChoices() : q.options) : [];
        if (started.current === key) setState({ kind: 'ready', options });
      } catch (error) {
        setOutput(s.output);
        if (started.current === key) setState({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
      }
    })();
  }, [lesson, step, attempt]);

  usePanelFocus(state.kind === 'ready' ? current?.panel : undefined);

  if (!current) return null;
  const last = step === lesson.steps.length - 1;
  const go = (next: number) => {
    // Going back replays the lesson up to that step, so the lab is in the state the step describes
    // (a later step may have run another workload or reopened a stack).
    if (next < step) replayed.current = -1;
    onStep(next);
    // In the same render as the new step: the old step's 'ready' must not show the new step as set up.
    setState({ kind: 'running' });
    setStep(next);
  };

  return (
    <section className="panel lesson-player" aria-labelledby="lesson-title" data-testid="lesson-player" data-lesson={lesson.id} data-steps={lesson.steps.length}>
      <div className="panel-head">
        <h2 id="lesson-title">
          Lesson {lesson.number}: {lesson.title}
        </h2>
        <span className="small muted">
          Step {step + 1} of {lesson.steps.length}
        </span>
      </div>
      <p className="small muted lesson-mirrors">Mirrors: {lesson.mirrors}</p>
      <div className="lesson-step" data-testid="lesson-step" data-step={step} data-state={state.kind} data-key={current.key ? 'true' : 'false'}>
        <h3>{current.title}</h3>
        <p>{current.text}</p>
        {current.cli && (
          <p className="small">
            Try it with the CLI: <code>{current.cli}</code>
          </p>
        )}
        {state.kind === 'running' && <p className="small muted">The lab is setting this step up…</p>}
        {state.kind === 'failed' && (
          <p className="error" role="alert">
            The lab could not set this step up: {state.error}{' '}
            <button type="button" className="link" onClick={() => setAttempt((a) => a + 1)}>
              Try again
            </button>
          </p>
        )}
        {lesson.id === 'reservations' && <ReservationState outcome={session.current.lastReservation} version={output.length} />}
        {lesson.steps.some((st) => st.actions?.some((a) => a.kind === 'mirror')) && <JobState disk={env.current.lab.client.disk} session={session.current} />}
        <pre className="lesson-output" data-testid="lesson-output" aria-label="What the lab did">
          {output.slice(-12).join('\n')}
        </pre>
        {state.kind === 'ready' && current.question && (
          <LessonQuestion key={step} question={current.question} options={state.options} readLive={() => session.current!.probe(current.question!.probe)} onRight={() => onStep(step, true)} />
        )}
      </div>
      <div className="row lesson-nav">
        <button type="button" disabled={step === 0 || state.kind === 'running'} onClick={() => go(step - 1)}>
          Back
        </button>
        <button type="button" disabled={state.kind === 'running'} onClick={() => (last ? (onStep(lesson.steps.length), onClose()) : go(step + 1))}>
          {last ? 'Finish' : 'Next'}
        </button>
        <button type="button" onClick={onFreePlay} disabled={state.kind === 'running'}>
          Free play
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            void session.current!.closeAll();
            onClose();
          }}
        >
          Close lesson
        </button>
      </div>
    </section>
  );
}

async function settle(ready: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ready() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}
