/**
 * Makes public/sample.vhd, the image the page opens on a first visit: a 16 MiB fixed VHD with
 * deterministic, recognisable content, so a student sees something real in the hex view and the
 * terminal, and tests can check exact bytes.
 *
 *   LBA 0       an MBR: one Linux partition (type 0x83) from LBA 2048 to the end, signature 55 aa,
 *               and "Disk Lab sample MBR" in the boot-code area
 *   LBA 1       a text banner ("Disk Lab sample" ...)
 *   LBA 2048    "Disk Lab sample: partition 1 starts here"
 *   LBA 16384   "Disk Lab sample: the middle of the disk (8 MiB)"
 *   LBA 32767   "Disk Lab sample: the last sector"
 *   elsewhere   zeroes (git and HTTP compression make the file cheap to keep and serve)
 * The footer is fixed too (unique id, timestamp), so the script is reproducible byte for byte.
 *
 * Usage: npx tsx scripts/make-sample.ts [--check] [out=public/sample.vhd]
 *   --check  compares the file with what the script would write and exits 1 if they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fixedFooterFor } from '../src/core/formats/vhd/fixed.ts';
import { serializeVhdFooter } from '../src/core/formats/vhd/footer.ts';

export const SAMPLE_BYTES = 16 * 1024 * 1024;
export const SAMPLE_SECTORS = SAMPLE_BYTES / 512;
export const PARTITION_START = 2048;

/** LBA -> the text at the start of that sector. */
export const SAMPLE_TEXT: Readonly<Record<number, string>> = {
  1: 'Disk Lab sample\nA 16 MiB fixed VHD made by scripts/make-sample.ts. Try: read -v 512 64\n',
  [PARTITION_START]: 'Disk Lab sample: partition 1 starts here\n',
  [SAMPLE_SECTORS / 2]: 'Disk Lab sample: the middle of the disk (8 MiB)\n',
  [SAMPLE_SECTORS - 1]: 'Disk Lab sample: the last sector\n',
};

const SAMPLE_UNIQUE_ID = new TextEncoder().encode('DiskLab-sample-1');
const SAMPLE_TIME_MS = Date.UTC(2025, 0, 1);

function mbr(): Uint8Array {
  const s = new Uint8Array(512);
  s.set(new TextEncoder().encode('Disk Lab sample MBR'), 0);
  const view = new DataView(s.buffer);
  view.setUint32(440, 0x4c44_5331, true); // disk signature 'DLS1'
  const e = 446; // first partition entry
  s[e] = 0x00; // not bootable
  s.set([0xfe, 0xff, 0xff], e + 1); // CHS start: "use LBA"
  s[e + 4] = 0x83; // Linux
  s.set([0xfe, 0xff, 0xff], e + 5); // CHS end: "use LBA"
  view.setUint32(e + 8, PARTITION_START, true);
  view.setUint32(e + 12, SAMPLE_SECTORS - PARTITION_START, true);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

/** The whole image: data sectors then the VHD footer. */
export function sampleImage(): Uint8Array {
  const image = new Uint8Array(SAMPLE_BYTES + 512);
  image.set(mbr(), 0);
  for (const [lba, text] of Object.entries(SAMPLE_TEXT)) image.set(new TextEncoder().encode(text), Number(lba) * 512);
  image.set(serializeVhdFooter(fixedFooterFor(SAMPLE_BYTES, { uniqueId: SAMPLE_UNIQUE_ID, now: SAMPLE_TIME_MS })), SAMPLE_BYTES);
  return image;
}

function main(args: string[]): number {
  const check = args.includes('--check');
  const out = args.find((a) => !a.startsWith('--')) ?? 'public/sample.vhd';
  const image = sampleImage();
  if (check) {
    const existing = new Uint8Array(readFileSync(out));
    const same = existing.length === image.length && existing.every((b, i) => b === image[i]);
    console.log(same ? `${out} is up to date` : `${out} differs from what scripts/make-sample.ts makes: run it again`);
    return same ? 0 : 1;
  }
  writeFileSync(out, image);
  console.log(`wrote ${out}: ${image.length} bytes (${SAMPLE_SECTORS} sectors + VHD footer)`);
  return 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) process.exitCode = main(process.argv.slice(2));
