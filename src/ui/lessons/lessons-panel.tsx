/**
 * The lessons' place in the lab: the lesson index (every lesson, its progress from localStorage,
 * coming lessons marked as such) and, once a lesson is open, its player. A lesson opens from the
 * index or from a deep link `?lesson=<id>`; the URL follows the open lesson so it can be shared.
 */
import { useState } from 'react';
import { findLesson } from './catalog.ts';
import type { Lesson } from './lesson.ts';
import { validateLesson } from './lesson.ts';
import { LessonIndex } from './lesson-index.tsx';
import { LessonPlayer } from './lesson-player.tsx';
import { advance, browserStore, loadProgress, saveProgress, type ProgressMap } from './progress.ts';
import './lessons.css';

function lessonFromUrl(): Lesson | undefined {
  const lesson = findLesson(new URLSearchParams(window.location.search).get('lesson'));
  return lesson?.status === 'ready' && validateLesson(lesson).length === 0 ? lesson : undefined;
}

function setUrlLesson(id: string | undefined): void {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set('lesson', id);
  else url.searchParams.delete('lesson');
  window.history.replaceState(window.history.state, '', url);
}

export function LessonsPanel() {
  const [open, setOpen] = useState<Lesson | undefined>(lessonFromUrl);
  const [progress, setProgress] = useState<ProgressMap>(() => loadProgress(browserStore()));
  const [expanded, setExpanded] = useState(open !== undefined);

  const record = (lesson: Lesson, step: number, answered?: boolean) => {
    setProgress((map) => {
      const next = { ...map, [lesson.id]: advance(map[lesson.id], step, lesson.steps.length, answered ? step : undefined) };
      saveProgress(browserStore(), next);
      return next;
    });
  };

  const start = (lesson: Lesson) => {
    setOpen(lesson);
    setUrlLesson(lesson.id);
  };
  const leave = () => {
    setOpen(undefined);
    setUrlLesson(undefined);
  };

  if (open) {
    const saved = progress[open.id];
    const startStep = saved && !saved.done ? saved.step : 0;
    return <LessonPlayer key={open.id} lesson={open} startStep={startStep} onStep={(step, answered) => record(open, step, answered)} onClose={leave} onFreePlay={leave} />;
  }
  return (
    <details className="panel lessons-index" data-testid="lessons-index" open={expanded} onToggle={(e) => setExpanded(e.currentTarget.open)}>
      <summary>
        <h2>Lessons</h2>
      </summary>
      <LessonIndex progress={progress} onStart={start} />
    </details>
  );
}
