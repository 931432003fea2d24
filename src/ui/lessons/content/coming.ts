/**
 * Lessons whose engine features are being built: listed in the index as coming, with no steps.
 * Each becomes a ready lesson by adding its steps here (or in its own file) as data.
 */
import type { Lesson } from '../lesson.ts';

export const remoteLesson: Lesson = {
  id: 'remote',
  number: 6,
  title: 'Remote disks',
  summary: 'Chunk size and readahead over HTTP range requests; cold and warm cache; request counts.',
  mirrors: 'OpenVMM disk_blob, v86 and CheerpX HTTP disks',
  status: 'coming',
  waitsFor: 'HTTP range-request disks in the lab (issue 6, in progress)',
  steps: [],
};

export const encryptionLesson: Lesson = {
  id: 'encryption',
  number: 7,
  title: 'Encryption at rest',
  summary: 'Ciphertext below the crypt layer, plaintext above; why the XTS tweak is the sector number.',
  mirrors: 'dm-crypt aes-xts-plain64, OpenVMM disk_crypt, IEEE 1619',
  status: 'coming',
  waitsFor: 'the XTS-AES crypt overlay in the page (issue 7, in progress)',
  steps: [],
};

export const blockJobsLesson: Lesson = {
  id: 'block-jobs',
  number: 10,
  title: 'Block jobs',
  summary: 'Mirror a disk while it is being written; why the dirty bitmap converges.',
  mirrors: 'QEMU drive-mirror and blockdev-backup, dirty bitmaps',
  status: 'coming',
  waitsFor: 'mirror and backup jobs in the page (issue 10, in progress)',
  steps: [],
};
