/** Every lesson, in course order: the index lists them and `?lesson=<id>` finds them here. */
import type { Lesson } from './lesson.ts';
import { blocksLesson } from './content/blocks.ts';
import { chainsLesson } from './content/chains.ts';
import { blockJobsLesson } from './content/block-jobs.ts';
import { cowLesson } from './content/cow.ts';
import { encryptionLesson } from './content/encryption.ts';
import { formatsLesson } from './content/formats.ts';
import { queueDepthLesson } from './content/queue-depth.ts';
import { remoteLesson } from './content/remote.ts';
import { reservationsLesson } from './content/reservations.ts';
import { stripingLesson } from './content/striping.ts';

export const LESSONS: readonly Lesson[] = [
  blocksLesson,
  cowLesson,
  formatsLesson,
  chainsLesson,
  queueDepthLesson,
  remoteLesson,
  encryptionLesson,
  stripingLesson,
  reservationsLesson,
  blockJobsLesson,
];

export function findLesson(id: string | null | undefined): Lesson | undefined {
  return id ? LESSONS.find((l) => l.id === id) : undefined;
}
