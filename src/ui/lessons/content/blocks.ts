/** Lesson 1: blocks and sectors (512 vs 4096-byte sectors; what a request smaller than a sector gets). */
import type { Lesson } from '../lesson.ts';

export const blocksLesson: Lesson = {
  id: 'blocks',
  number: 1,
  title: 'Blocks and sectors',
  summary: 'A disk is an array of fixed-size sectors; see 512 and 4096-byte sectors and what a smaller request turns into.',
  mirrors: 'NVMe LBA formats (LBA data size in Identify Namespace), SCSI READ CAPACITY, OpenVMM DiskIo::sector_size, qemu-io',
  status: 'ready',
  steps: [
    {
      title: 'A disk is an array of sectors',
      text: 'The lab opened a 1 MiB RAM disk with 512-byte sectors and turned on the trace, which prints every call the shell makes on the disk. A disk is addressed by logical block address (LBA): byte offset divided by the sector size.',
      actions: [
        { kind: 'open', name: 'disk-512', stack: { kind: 'spec', spec: { kind: 'ram', sectors: 2048, sectorSize: 512 } } },
        { kind: 'shell', line: 'trace on' },
        { kind: 'shell', line: 'write -P 0x5a 1536 512' },
      ],
      panel: 'lesson-output',
      question: { kind: 'number', prompt: 'The write started at byte 1536. Which LBA did the disk write?', probe: { kind: 'shell', line: 'write -P 0x5a 1536 512', match: 'trace: write lba=(\\d+)' }, hint: 'Divide the byte offset by the sector size.' },
    },
    {
      title: 'Bigger sectors',
      text: 'Modern drives use 4096-byte sectors (Advanced Format; NVMe namespaces often offer both). The same 1 MiB now has fewer, larger sectors.',
      actions: [{ kind: 'open', name: 'disk-4k', stack: { kind: 'spec', spec: { kind: 'ram', sectors: 256, sectorSize: 4096 } } }],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many sectors does this 1 MiB disk have?', probe: { kind: 'stack-fact', fact: 'sectorCount' } },
    },
    {
      title: 'A request that is not whole sectors',
      text: 'A disk only reads and writes whole sectors. The shell, like QEMU’s block layer, serves a 1 KiB write that straddles a sector boundary by reading the two sectors it touches, patching them and writing them back: the trace shows the disk calls.',
      actions: [
        { kind: 'shell', line: 'trace on' },
        { kind: 'shell', line: 'write -P 0x11 3584 1024' },
      ],
      panel: 'lesson-output',
      key: true,
      question: { kind: 'number', prompt: 'How many whole sectors did the disk write for this 1024-byte request?', probe: { kind: 'shell', line: 'write -P 0x11 3584 1024', match: 'trace: write lba=\\d+ count=(\\d+)' }, hint: 'Bytes 3584 to 4607 touch which 4096-byte sectors?' },
    },
    {
      title: 'What a device does with it',
      text: 'A real controller has no read-modify-write: an NVMe command counts its length in LBAs, so a 512-byte transfer cannot be expressed on a 4096-byte namespace. The lab ran a job of 512-byte reads through the emulated controller on this disk.',
      actions: [{ kind: 'workload', job: { rw: 'randread', bs: 512, iodepth: 1, ios: 16 } }],
      panel: 'panel-controller',
      question: { kind: 'choice', prompt: 'What happened to the job of 512-byte reads?', options: ['completed', 'refused'], probe: { kind: 'workload', metric: 'outcome' } },
    },
  ],
};
