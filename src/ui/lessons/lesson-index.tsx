/** The list of lessons with each one's progress; coming lessons are listed but cannot start. */
import { LESSONS } from './catalog.ts';
import type { Lesson } from './lesson.ts';
import type { ProgressMap } from './progress.ts';

export function LessonIndex({ progress, onStart }: { readonly progress: ProgressMap; readonly onStart: (lesson: Lesson) => void }) {
  return (
    <ol className="lesson-list" aria-label="Lessons">
      {LESSONS.map((lesson) => {
        const p = progress[lesson.id];
        const status = lesson.status === 'coming' ? 'coming' : p?.done ? 'done' : p ? 'started' : 'new';
        return (
          <li key={lesson.id} className={`lesson-entry ${status}`} data-testid={`lesson-entry-${lesson.id}`} data-status={status}>
            <span className="lesson-number">{lesson.number}</span>
            <div>
              {lesson.status === 'ready' ? (
                <a
                  href={`?lesson=${lesson.id}`}
                  onClick={(e) => {
                    e.preventDefault();
                    onStart(lesson);
                  }}
                >
                  {lesson.title}
                </a>
              ) : (
                <span>{lesson.title}</span>
              )}{' '}
              <span className="lesson-badge small">{status === 'coming' ? 'coming' : status === 'done' ? 'done' : status === 'started' ? `step ${p!.step + 1} of ${lesson.steps.length}` : ''}</span>
              <p className="small muted">
                {lesson.summary} {lesson.status === 'coming' ? `Waits for ${lesson.waitsFor}.` : `Mirrors ${lesson.mirrors}.`}
              </p>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
