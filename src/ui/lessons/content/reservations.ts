/** Lesson 9: persistent reservations (two hosts, register, reserve, conflict, preempt). */
import type { Lesson } from '../lesson.ts';

const HOLDERS = ['host-a', 'host-b', 'nobody'];
const OUTCOMES = ['ok', 'RESERVATION_CONFLICT', 'READ_ONLY'];

export const reservationsLesson: Lesson = {
  id: 'reservations',
  number: 9,
  title: 'Persistent reservations',
  summary: 'Two hosts share one disk: register keys, reserve, see a write fail with RESERVATION CONFLICT, and preempt.',
  mirrors: 'SCSI-3 persistent reservations (SPC-5 PERSISTENT RESERVE IN/OUT), NVMe reservations, OpenVMM disk_prwrap, failover clusters',
  status: 'ready',
  steps: [
    {
      title: 'Two hosts register',
      text: 'The lab opened one disk and two emulated hosts: host-a registered key 0xa and host-b key 0xb. Registering says who may take part; it does not reserve anything.',
      actions: [
        { kind: 'open', name: 'shared', stack: { kind: 'spec', spec: { kind: 'ram', sectors: 2048 } } },
        { kind: 'pr', host: 'host-a', op: { op: 'register', key: '0xa' } },
        { kind: 'pr', host: 'host-b', op: { op: 'register', key: '0xb' } },
      ],
      panel: 'lesson-pr-state',
      question: { kind: 'choice', prompt: 'Who holds the reservation?', options: HOLDERS, probe: { kind: 'pr', fact: 'holder' } },
    },
    {
      title: 'Reserve',
      text: 'host-a reserved the disk as write exclusive with its key: only the holder may write, everyone may read.',
      actions: [{ kind: 'pr', host: 'host-a', op: { op: 'reserve', key: '0xa', type: 'write-exclusive' } }],
      panel: 'lesson-pr-state',
      question: { kind: 'choice', prompt: 'Who holds the reservation now?', options: HOLDERS, probe: { kind: 'pr', fact: 'holder' } },
    },
    {
      title: 'A conflicting write',
      text: 'host-b wrote sector 0. A SCSI target answers a command that the reservation forbids with the status RESERVATION CONFLICT, and the data is not written.',
      actions: [{ kind: 'pr', host: 'host-b', op: { op: 'write', lba: 0, count: 1 } }],
      panel: 'lesson-pr-state',
      key: true,
      question: { kind: 'choice', prompt: 'What did host-b’s write get?', options: OUTCOMES, probe: { kind: 'pr', fact: 'last-outcome' } },
    },
    {
      title: 'Reading is allowed',
      text: 'host-b read sector 0 under the same reservation.',
      actions: [{ kind: 'pr', host: 'host-b', op: { op: 'read', lba: 0, count: 1 } }],
      panel: 'lesson-pr-state',
      question: { kind: 'choice', prompt: 'What did host-b’s read get?', options: OUTCOMES, probe: { kind: 'pr', fact: 'last-outcome' } },
    },
    {
      title: 'Preempt',
      text: 'host-a stopped answering, so host-b preempted it: PREEMPT with host-a’s key removes host-a’s registration and gives the reservation to host-b. This is how a cluster fences a failed node.',
      actions: [{ kind: 'pr', host: 'host-b', op: { op: 'preempt', key: '0xb', preemptKey: '0xa', type: 'write-exclusive' } }],
      panel: 'lesson-pr-state',
      question: { kind: 'choice', prompt: 'Who holds the reservation now?', options: HOLDERS, probe: { kind: 'pr', fact: 'holder' } },
    },
    {
      title: 'The fenced host',
      text: 'host-a came back and tried to write.',
      actions: [{ kind: 'pr', host: 'host-a', op: { op: 'write', lba: 0, count: 1 } }],
      panel: 'lesson-pr-state',
      question: { kind: 'choice', prompt: 'What did host-a’s write get?', options: OUTCOMES, probe: { kind: 'pr', fact: 'last-outcome' } },
    },
  ],
};
