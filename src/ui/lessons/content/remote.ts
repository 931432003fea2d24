/** Lesson 6: remote disks (an image read in place over HTTP range requests, in chunks, with readahead). */
import type { Lesson } from '../lesson.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export const remoteLesson: Lesson = {
  id: 'remote',
  number: 6,
  title: 'Remote disks',
  summary: 'Read a disk image in place over HTTP: range requests in chunks, a cold and a warm cache, and readahead on sequential reads.',
  mirrors: 'OpenVMM disk_blob (HTTP blob disks), v86 and CheerpX HTTP range-request disks',
  status: 'ready',
  steps: [
    {
      title: 'An image on a web server',
      text: 'The lab opened the sample VHD from this page’s own web server by URL, without downloading it: every read becomes an HTTP Range request for the bytes it needs. The lab fetches whole 64 KiB chunks and keeps up to 4 MiB of them in memory.',
      actions: [
        { kind: 'open', name: 'remote', stack: { kind: 'spec', spec: { kind: 'url', url: '/sample.vhd', chunkSize: 64 * KiB, cacheBytes: 4 * MiB } } },
      ],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many HTTP requests did opening the disk take (the stack panel’s requests)?', unit: 'requests', probe: { kind: 'url-stat', stat: 'requests' }, hint: 'Opening asks for the size and reads the format’s headers and footer.' },
    },
    {
      title: 'A cold read',
      text: 'The lab read 4 KiB at byte 1 MiB, which no request had touched yet: a cold read. The server sent the whole chunk that holds those bytes.',
      actions: [{ kind: 'url-mark' }, { kind: 'shell', line: 'read 1M 4k' }],
      panel: 'panel-stack',
      key: true,
      question: { kind: 'number', prompt: 'How many bytes did this 4 KiB read fetch from the server?', unit: 'bytes', probe: { kind: 'url-stat', stat: 'bytes-fetched', since: 'mark' }, hint: 'The lab fetches whole chunks.' },
    },
    {
      title: 'The same read, warm',
      text: 'The lab read the same 4 KiB again. The chunk is in the memory cache now, so the read is served locally.',
      actions: [{ kind: 'url-mark' }, { kind: 'shell', line: 'read 1M 4k' }],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many HTTP requests did the warm read make?', unit: 'requests', probe: { kind: 'url-stat', stat: 'requests', since: 'mark' } },
    },
    {
      title: 'Sequential reads and readahead',
      text: 'The lab read three 64 KiB pieces one after another from byte 8 MiB. After two reads in a row the source guesses a sequential scan and fetches well past the last read, in large requests, before anyone asks.',
      actions: [
        { kind: 'url-mark' },
        { kind: 'shell', line: `read ${8 * MiB} 64k` },
        { kind: 'shell', line: `read ${8 * MiB + 64 * KiB} 64k` },
        { kind: 'shell', line: `read ${8 * MiB + 128 * KiB} 64k` },
      ],
      panel: 'panel-occupancy',
      question: { kind: 'number', prompt: 'How many bytes did those three reads (192 KiB) fetch from the server?', unit: 'bytes', probe: { kind: 'url-stat', stat: 'bytes-fetched', since: 'mark' }, hint: 'Compare with the 192 KiB read: the rest is readahead.' },
    },
    {
      title: 'Readahead pays off',
      text: 'The lab read the next 64 KiB of the scan. Readahead already brought it, so the guest did not wait for the network; a disk served over a slow link depends on this.',
      actions: [{ kind: 'url-mark' }, { kind: 'shell', line: `read ${8 * MiB + 192 * KiB} 64k` }],
      panel: 'panel-stack',
      question: { kind: 'number', prompt: 'How many HTTP requests did this read make?', unit: 'requests', probe: { kind: 'url-stat', stat: 'requests', since: 'mark' } },
    },
  ],
};
