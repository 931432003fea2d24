/** Lesson 10: block jobs (a mirror converging while a workload writes, then switching over). */
import type { Lesson } from '../lesson.ts';

const MiB = 1024 * 1024;

export const blockJobsLesson: Lesson = {
  id: 'block-jobs',
  number: 10,
  title: 'Block jobs',
  summary: 'Mirror a disk while it is being written; why the dirty bitmap converges; switch over to an identical copy.',
  mirrors: 'QEMU block jobs: drive-mirror / blockdev-mirror with dirty bitmaps, block-job-complete',
  status: 'ready',
  steps: [
    {
      title: 'A disk full of data',
      text: 'The lab opened a 16 MiB RAM disk and filled it with data. A mirror copies a disk that stays in use to a new image, for example to move a running VM’s storage.',
      actions: [
        { kind: 'open', name: 'busy', stack: { kind: 'spec', spec: { kind: 'ram', sectors: 32768 } } },
        { kind: 'shell', line: 'write -P 0x11 0 16M' },
      ],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many bytes does the mirror have to copy in its first pass?', unit: 'bytes', probe: { kind: 'stack-fact', fact: 'sizeBytes' }, hint: 'Every byte of the disk holds data.' },
    },
    {
      title: 'Mirror while a workload writes',
      text: 'The lab started a mirror into a new image at 8 MiB/s (the lesson shows its progress) and, at the same time, 4 KiB random writes at 25 per second for four seconds. Each write marks its 64 KiB granule dirty in a bitmap; after the first pass the mirror copies the dirty granules again until none is left, and is then ready.',
      actions: [{ kind: 'mirror', target: 'lesson-mirror.img', speedLimit: 8 * MiB, workload: { rw: 'randwrite', bs: 4096, iodepth: 1, rateIops: 25, runtimeNs: 4e9 } }],
      panel: 'lesson-job-state',
      key: true,
      question: { kind: 'number', prompt: 'How many bytes had the mirror copied when it became ready?', unit: 'bytes', probe: { kind: 'job', fact: 'done-at-ready' } },
    },
    {
      title: 'Copies of dirtied blocks',
      text: 'Everything past the disk’s 16 MiB was copied twice: granules the workload wrote after the mirror had copied them. The total grows while the guest writes.',
      panel: 'lesson-job-state',
      question: { kind: 'number', prompt: 'How many bytes did the mirror copy again, beyond the 16 MiB, by the time it was ready?', unit: 'bytes', probe: { kind: 'job', fact: 'recopied-at-ready' }, hint: 'Bytes copied at ready minus 16 MiB (16777216).' },
    },
    {
      title: 'Why it converges',
      text: 'The workload dirties at most 25 granules of 64 KiB a second, about 1.6 MiB/s, and the mirror copies 8 MiB/s. Copying outruns writing, so the bitmap empties; were the guest faster, it would never empty (QEMU’s copy-mode=write-blocking then copies each guest write as it happens).',
      panel: 'lesson-job-state',
      question: { kind: 'number', prompt: 'How many bytes were still dirty when the mirror became ready?', unit: 'bytes', probe: { kind: 'job', fact: 'dirty-at-ready' } },
    },
    {
      title: 'Complete: switch over',
      text: 'The lab fingerprinted the disk (SHA-256 of every byte) and completed the mirror, as block-job-complete does: writes pause, the last dirty granules are copied, and the stack’s I/O goes to the new image from then on.',
      actions: [{ kind: 'fingerprint' }, { kind: 'complete-job' }],
      panel: 'lesson-job-state',
      question: { kind: 'choice', prompt: 'What state did the mirror end in?', options: ['ready', 'completed', 'cancelled', 'failed'], probe: { kind: 'job', fact: 'state' } },
    },
    {
      title: 'An identical copy',
      text: 'The stack now reads the mirror’s image, not the RAM disk. The lab fingerprinted it again to compare it with the disk as the workload left it.',
      panel: 'lesson-output',
      question: { kind: 'choice', prompt: 'Is the copy identical to the source?', options: ['identical', 'different'], probe: { kind: 'fingerprint-match' } },
    },
  ],
};
