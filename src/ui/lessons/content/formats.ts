/** Lesson 3: image formats (the same disk as raw, dynamic VHD and qcow2). */
import type { Lesson } from '../lesson.ts';

const FILLS = [
  { offset: 0, length: 64 * 1024, byte: 0x5a },
  { offset: 1 << 20, length: 64 * 1024, byte: 0xa5 },
];

export const formatsLesson: Lesson = {
  id: 'formats',
  number: 3,
  title: 'Image formats',
  summary: 'The same 16 MiB disk with 128 KiB of data as raw, dynamic VHD and qcow2: why the files differ in size.',
  mirrors: 'QEMU raw, vpc and qcow2 drivers; the VHD specification (footer, dynamic header, BAT); the qcow2 specification (L1/L2 tables)',
  status: 'ready',
  steps: [
    {
      title: 'Raw: every byte is stored',
      text: 'The page built a raw image of a 16 MiB disk holding 64 KiB of 0x5a at byte 0 and 64 KiB of 0xa5 at 1 MiB. A raw file is the disk byte for byte, holes included.',
      actions: [{ kind: 'open', name: 'raw', stack: { kind: 'raw-pattern', name: 'disk.raw', sizeBytes: 16 << 20, fills: FILLS } }],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many bytes is the raw file?', unit: 'bytes', probe: { kind: 'file-bytes', stack: 'raw' } },
    },
    {
      title: 'Dynamic VHD: 2 MiB blocks',
      text: 'qemu-img wrote the same data into a dynamic VHD. Its Block Allocation Table maps each 2 MiB block to a place in the file, or to nothing (a hole, read as zeroes); both writes fall in block 0, so the file holds one block plus headers. VHD also rounds the size to a cylinder/head/sector geometry.',
      actions: [{ kind: 'open', name: 'vhd', stack: { kind: 'image', file: { url: '/lessons/disk.vhd', name: 'disk.vhd' } } }],
      panel: 'panel-stack',
      cli: 'disklab map public/lessons/disk.vhd',
      question: { kind: 'number', prompt: 'What is the VHD disk’s size in bytes, as the stack panel shows it?', unit: 'bytes', probe: { kind: 'stack-fact', fact: 'sizeBytes' } },
    },
    {
      title: 'qcow2: small clusters',
      text: 'The qcow2 copy uses 4 KiB clusters found through L1 and L2 tables, so only the 32 clusters that hold data take space, plus the header, tables and reference counts.',
      actions: [{ kind: 'open', name: 'qcow2', stack: { kind: 'image', file: { url: '/lessons/disk.qcow2', name: 'disk.qcow2' } } }],
      panel: 'panel-stack',
      key: true,
      cli: 'disklab map public/lessons/disk.qcow2',
      question: { kind: 'number', prompt: 'How many bytes is the qcow2 file?', unit: 'bytes', probe: { kind: 'file-bytes', stack: 'qcow2' } },
    },
    {
      title: 'Same disk, different files',
      text: 'All three read the same bytes: the format only changes how they are stored. The lab reads the qcow2 disk at 1 MiB.',
      panel: 'lesson-output',
      question: { kind: 'choice', prompt: 'Which byte does the qcow2 disk hold at offset 1 MiB (hex)?', options: ['00', '5a', 'a5'], probe: { kind: 'shell', line: 'read -v 1M 16', match: '^[0-9a-f]+:\\s+([0-9a-f]{2})' } },
    },
  ],
};
