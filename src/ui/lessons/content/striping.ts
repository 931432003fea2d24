/** Lesson 8: striping (chunk mapping across members, per-member load). */
import type { DiskSpec } from '../../../core/spec.ts';
import type { Lesson, LessonAction } from '../lesson.ts';

/** A member whose writes land in its own RAM layer, so the stack panel shows each member's load. */
const MEMBER: DiskSpec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: 2048 } }] };
const OPEN: LessonAction = { kind: 'open', name: 'stripe', stack: { kind: 'spec', spec: { kind: 'striped', members: [MEMBER, MEMBER, MEMBER], chunkSectors: 16 } } };
const MEMBERS = ['member 0', 'member 1', 'member 2'];

export const stripingLesson: Lesson = {
  id: 'striping',
  number: 8,
  title: 'Striping',
  summary: 'Three disks striped in 8 KiB chunks: where each chunk lives, and how a sequential job spreads its load.',
  mirrors: 'OpenVMM disk_striped; Linux md RAID-0 and dm-stripe chunk size',
  status: 'ready',
  steps: [
    {
      title: 'Chunks, round robin',
      text: 'The lab opened a disk striped over three members with 8 KiB chunks (16 sectors): chunk c lives on member c mod 3. It then wrote 4 KiB at byte 20 KiB; each member’s top layer in the stack panel shows what it received.',
      actions: [OPEN, { kind: 'shell', line: 'write -P 0x01 20k 4k' }],
      panel: 'panel-stack',
      question: { kind: 'choice', prompt: 'Which member received the write?', options: MEMBERS, probe: { kind: 'busiest-member' } },
    },
    {
      title: 'Further along',
      text: 'The lab reopened the stripe empty and wrote 8 KiB at byte 48 KiB. Work out the chunk number first.',
      actions: [OPEN, { kind: 'shell', line: 'write -P 0x02 48k 8k' }],
      panel: 'panel-stack',
      question: { kind: 'choice', prompt: 'Which member received this write?', options: MEMBERS, probe: { kind: 'busiest-member' } },
    },
    {
      title: 'A sequential job',
      text: 'The lab reopened the stripe and ran a sequential write of 240 KiB in 8 KiB I/Os through the controller. Consecutive chunks go to consecutive members, so the load spreads evenly.',
      actions: [OPEN, { kind: 'workload', job: { rw: 'write', bs: 8192, iodepth: 4, size: 240 * 1024 } }],
      panel: 'panel-stack',
      key: true,
      question: { kind: 'number', prompt: 'How many bytes did member 1 receive?', unit: 'bytes', probe: { kind: 'member-bytes', member: 1 } },
    },
  ],
};
