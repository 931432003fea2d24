/** Lesson 7: encryption at rest (XTS-AES below the guest: ciphertext below, plaintext above). */
import type { Lesson } from '../lesson.ts';

const SAME_OR_NOT = ['same', 'different'];

export const encryptionLesson: Lesson = {
  id: 'encryption',
  number: 7,
  title: 'Encryption at rest',
  summary: 'Ciphertext below the crypt layer, plaintext above; why the XTS tweak is the sector number.',
  mirrors: 'dm-crypt aes-xts-plain64 (cryptsetup plain mode), OpenVMM disk_crypt, IEEE 1619 XTS-AES',
  status: 'ready',
  steps: [
    {
      title: 'A crypt layer over an empty disk',
      text: 'The lab opened a 1 MiB RAM disk of zeroes and put an XTS-AES-256 crypt layer on it, keyed by a 64-byte key file, as dm-crypt does in plain mode. The layer decrypts every sector the guest reads, except that Disk Lab reads a sector whose ciphertext is all zeroes as zeroes, so a never-written disk reads as zeroes (dm-crypt would show noise there).',
      actions: [
        { kind: 'open', name: 'vault', stack: { kind: 'spec', spec: { kind: 'ram', sectors: 2048 } } },
        { kind: 'add-crypt', keySeed: 7 },
      ],
      panel: 'panel-hex',
      question: {
        kind: 'number',
        prompt: 'How many of the 512 bytes of sector 8 read as 00 through the crypt layer?',
        unit: 'bytes',
        probe: { kind: 'byte-count', sector: { lba: 8, view: 'top' }, byte: 0 },
        hint: 'Nothing was written yet: the disk below holds only zeroes.',
      },
    },
    {
      title: 'Write the same data twice',
      text: 'The lab wrote 1 KiB of the byte ab at byte 4096, which fills sectors 8 and 9 with the same plaintext. Above the crypt layer, the guest reads back exactly what it wrote.',
      actions: [{ kind: 'shell', line: 'write -P 0xab 4096 1024' }],
      panel: 'panel-hex',
      question: { kind: 'choice', prompt: 'Through the crypt layer, are sectors 8 and 9 the same?', options: SAME_OR_NOT, probe: { kind: 'sectors-compare', a: { lba: 8, view: 'top' }, b: { lba: 9, view: 'top' } } },
    },
    {
      title: 'Ciphertext below',
      text: 'In the hex view, go to sector 8 and choose “ciphertext (below it, as stored)”: that is what the disk under the layer holds, and all a thief with the disk but not the key gets. No pattern of the plaintext is left.',
      panel: 'panel-hex',
      key: true,
      question: { kind: 'number', prompt: 'How many of the 512 bytes of sector 8 below the crypt layer are ab?', unit: 'bytes', probe: { kind: 'byte-count', sector: { lba: 8, view: 'below-crypt' }, byte: 0xab } },
    },
    {
      title: 'The tweak is the sector number',
      text: 'XTS encrypts each sector with the same key but a different tweak, the sector number (plain64 in dm-crypt’s cipher name). Were the tweak the same everywhere, equal sectors would give equal ciphertext and show where a file repeats.',
      panel: 'panel-hex',
      question: { kind: 'choice', prompt: 'Below the crypt layer, is the ciphertext of sector 8 equal to that of sector 9?', options: SAME_OR_NOT, probe: { kind: 'sectors-compare', a: { lba: 8, view: 'below-crypt' }, b: { lba: 9, view: 'below-crypt' } } },
    },
    {
      title: 'Without the key',
      text: 'The lab removed the crypt layer, as closing a dm-crypt mapping does: the guest now reads the raw disk. The data is still there, encrypted; only the key turns it back into plaintext.',
      actions: [{ kind: 'drop-top-overlay' }],
      panel: 'panel-hex',
      question: { kind: 'number', prompt: 'How many of the 512 bytes of sector 8 read as ab now?', unit: 'bytes', probe: { kind: 'byte-count', sector: { lba: 8, view: 'top' }, byte: 0xab } },
      cli: 'disklab convert -f raw -O raw --decrypt-key-file disk.key encrypted.img plain.img',
    },
  ],
};
