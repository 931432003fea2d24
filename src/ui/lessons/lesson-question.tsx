/**
 * One step's question: choices as radio buttons or a number box, "Check" (the lab reads the live
 * value and judges the answer) and "Show the live value" (for when the student is stuck; the e2e
 * run reads the answer from it). Judging is answer-check.ts; reading is the lesson session's probe.
 */
import { useState } from 'react';
import { checkAnswer, formatLive, type LiveValue, type Verdict } from './answer-check.ts';
import type { Question } from './lesson.ts';

export interface QuestionProps {
  readonly question: Question;
  /** The options of a choice question ('layers' already resolved). */
  readonly options: readonly string[];
  readonly readLive: () => Promise<LiveValue>;
  readonly onRight: () => void;
}

export function LessonQuestion({ question, options, readLive, onRight }: QuestionProps) {
  const [answer, setAnswer] = useState('');
  const [verdict, setVerdict] = useState<Verdict | undefined>(undefined);
  const [live, setLive] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const withLive = async (use: (value: LiveValue) => void) => {
    setBusy(true);
    setProblem(undefined);
    try {
      use(await readLive());
    } catch (error) {
      setProblem(`The lab could not read the live value: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  };

  const check = () =>
    withLive((value) => {
      const v = checkAnswer(question, answer, value);
      setVerdict(v);
      if (v.right) onRight();
    });

  return (
    <form
      className="lesson-question"
      data-testid="lesson-question"
      data-kind={question.kind}
      onSubmit={(e) => {
        e.preventDefault();
        void check();
      }}
    >
      <p className="lesson-prompt">{question.prompt}</p>
      {question.kind === 'choice' ? (
        <div role="radiogroup" aria-label="Answer" className="lesson-choices">
          {options.map((o) => (
            <label key={o} className="lesson-choice">
              <input type="radio" name="lesson-answer" value={o} checked={answer === o} onChange={() => setAnswer(o)} />
              {o}
            </label>
          ))}
        </div>
      ) : (
        <label className="field">
          <span>Your answer{question.unit ? ` (${question.unit})` : ''}</span>
          <input aria-label="Your answer" inputMode="decimal" value={answer} onChange={(e) => setAnswer(e.target.value)} />
        </label>
      )}
      <div className="row">
        <button type="submit" disabled={busy}>
          Check
        </button>
        <button type="button" className="link" disabled={busy} onClick={() => void withLive((v) => setLive(formatLive(v)))}>
          Show the live value
        </button>
      </div>
      {verdict && (
        <p className={`lesson-verdict ${verdict.right ? 'right' : 'wrong'}`} data-testid="lesson-verdict" data-verdict={verdict.right ? 'right' : 'wrong'} role="status">
          {verdict.right ? 'Right: that is what the lab shows.' : `Not quite. ${verdict.reason ?? ''} ${question.kind === 'number' && question.hint ? question.hint : ''}`}
        </p>
      )}
      {live !== undefined && (
        <p className="small muted">
          The lab reads: <code data-testid="lesson-live-value">{live}</code>
        </p>
      )}
      {problem && (
        <p className="error small" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
