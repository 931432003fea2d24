/** Lesson 4: differencing chains (a three-image qcow2 backing chain). */
import type { Lesson } from '../lesson.ts';

export const chainsLesson: Lesson = {
  id: 'chains',
  number: 4,
  title: 'Differencing chains and snapshots',
  summary: 'Three qcow2 files, each over the one below: which file serves which block, and what commit does.',
  mirrors: 'QEMU backing chains and qemu-img commit; VHD differencing disks (OpenVMM disk_vhd1, Hyper-V checkpoints)',
  status: 'ready',
  steps: [
    {
      title: 'A chain of three files',
      text: 'base.qcow2 holds bytes 0 to 256 KiB; mid.qcow2 was created over it and wrote 128 to 384 KiB; top.qcow2 over mid wrote 320 to 448 KiB. Each file becomes one layer of the stack, top first.',
      actions: [
        {
          kind: 'open',
          name: 'chain',
          stack: { kind: 'image', file: { url: '/lessons/top.qcow2', name: 'top.qcow2' }, parents: [{ url: '/lessons/mid.qcow2', name: 'mid.qcow2' }, { url: '/lessons/base.qcow2', name: 'base.qcow2' }] },
        },
      ],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many bytes of data does mid.qcow2 hold?', unit: 'bytes', probe: { kind: 'layer-bytes', layer: 1 } },
    },
    {
      title: 'The newest file wins',
      text: 'A read takes each sector from the topmost file that has it. LBA 700 is byte 358400, inside what top.qcow2 and mid.qcow2 both wrote.',
      panel: 'panel-occupancy',
      key: true,
      question: { kind: 'choice', prompt: 'Which file serves LBA 700?', options: 'layers', probe: { kind: 'source-layer', lba: 700 } },
    },
    {
      title: 'Falling through',
      text: 'LBA 300 (byte 153600) was written by mid.qcow2 and base.qcow2 but not by top.qcow2.',
      panel: 'panel-occupancy',
      question: { kind: 'choice', prompt: 'Which file serves LBA 300?', options: 'layers', probe: { kind: 'source-layer', lba: 300 } },
    },
    {
      title: 'Nobody has it',
      text: 'Past 448 KiB no file holds data. The chain reads zeroes there without storing them.',
      panel: 'panel-occupancy',
      question: { kind: 'choice', prompt: 'Which layer serves LBA 4000?', options: 'layers', probe: { kind: 'source-layer', lba: 4000 } },
    },
    {
      title: 'Committing the middle file',
      text: 'Committing mid.qcow2 copies its clusters into its backing file, base.qcow2; the chain still reads the same bytes, and top.qcow2 could then be rebased straight onto base. The page cannot commit yet; the CLI does it on the files, like qemu-img commit.',
      cli: 'disklab commit mid.qcow2',
    },
  ],
};
