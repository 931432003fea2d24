/** Lesson 2: copy-on-write (a RAM diff over a read-only base). */
import type { Lesson } from '../lesson.ts';

export const cowLesson: Lesson = {
  id: 'cow',
  number: 2,
  title: 'Copy-on-write',
  summary: 'Put a RAM diff over a read-only image: writes land in the diff, reads fall through, and a reset throws the diff away.',
  mirrors: 'OpenVMM disk_layered with disklayer_ram; QEMU -snapshot and qcow2 overlays',
  status: 'ready',
  steps: [
    {
      title: 'A read-only base and an empty diff',
      text: 'The lab opened the sample image read-only and stacked an empty RAM diff layer on top. A read takes each sector from the topmost layer that has it.',
      actions: [{ kind: 'open', name: 'sample', stack: { kind: 'image', file: { url: '/sample.vhd', name: 'sample.vhd' } } }, { kind: 'add-ram-diff' }],
      panel: 'panel-stack',
      question: { kind: 'choice', prompt: 'Which layer serves LBA 2048 now?', options: 'layers', probe: { kind: 'source-layer', lba: 2048 } },
    },
    {
      title: 'Write: the diff takes it',
      text: 'The lab wrote 4 KiB at byte 1 MiB (LBA 2048). The base is read-only, so the write landed in the RAM diff; the occupancy map shows the new block in the top row.',
      actions: [{ kind: 'shell', line: 'write -P 0xcd 1M 4k' }],
      panel: 'panel-occupancy',
      key: true,
      question: { kind: 'choice', prompt: 'Which layer serves LBA 2048 now?', options: 'layers', probe: { kind: 'source-layer', lba: 2048 } },
    },
    {
      title: 'Only what was written is copied',
      text: 'A diff holds only the sectors written to it, not a copy of the disk. The stack panel shows each layer’s size in bytes.',
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many bytes does the RAM diff hold?', unit: 'bytes', probe: { kind: 'layer-bytes', layer: 0 } },
    },
    {
      title: 'Read-through',
      text: 'Sectors the diff does not hold are read from the layer below, unchanged. LBA 16384 holds data in the base and was never written.',
      panel: 'panel-hex',
      question: { kind: 'choice', prompt: 'Which layer serves LBA 16384?', options: 'layers', probe: { kind: 'source-layer', lba: 16384 } },
    },
    {
      title: 'Reset',
      text: 'The lab dropped the diff and put a fresh empty one on top: that is a reset, and the write is gone. The base never changed.',
      actions: [{ kind: 'drop-top-overlay' }, { kind: 'add-ram-diff' }],
      panel: 'panel-stack',
      question: { kind: 'choice', prompt: 'Which layer serves LBA 2048 after the reset?', options: 'layers', probe: { kind: 'source-layer', lba: 2048 } },
    },
    {
      title: 'Commit',
      text: 'Committing writes the diff’s sectors into the layer below and keeps everything else. The page cannot commit a RAM diff yet; the CLI commits an image overlay into its parent, as qemu-img commit does.',
      cli: 'disklab commit overlay.qcow2',
    },
  ],
};
