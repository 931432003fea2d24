/**
 * Oracle tests with a second, independent VHD implementation: libvhdi (pyvhdi, Debian's
 * python3-libvhdi). disklab creates dynamic, fixed and differencing VHDs (the `disklab` command
 * itself, `node bin/disklab.mjs create/io`, plus seeded random bytes written in-process), and
 * pyvhdi must read every byte we expect through the whole parent chain, and agree on the size,
 * the disk type and the parent's identity. pyvhdi also reads the committed VHD/VHDX fixtures to
 * the hashes qemu-img recorded (including the VHDX patched to 4096-byte sectors, which qemu
 * cannot read), so those fixtures have two witnesses.
 *
 * Runs where a Python with pyvhdi exists; on CI its absence fails the file (libvhdi-tools.ts),
 * locally the tests are left out with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectSameBytes } from '../core/testing/disk-conformance.ts';
import { seededRandom } from '../core/testing/seeded-random.ts';
import { libvhdiProbe } from './libvhdi-tools.ts';
import { openImage } from './open-image.ts';
import { useTempDir } from './testing/temp-files.ts';
import { pyvhdiReadChain, type PyvhdiFileInfo } from './testing/pyvhdi-reader.ts';

const probe = libvhdiProbe();
if (probe.python === undefined) console.warn(`libvhdi oracle tests left out: ${probe.detail}`);

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(root, 'bin', 'disklab.mjs');
const MiB = 1024 * 1024;

const DISK_TYPE = { fixed: 2, dynamic: 3, differencing: 4 } as const;

/**
 * Writes to differencing children end on 4 KiB (8-sector) boundaries, so no byte of a child's
 * sector bitmap has a set bit followed by a clear one. libvhdi 20210425 (Debian 12) misreads
 * such bytes: libvhdi_block_descriptor_read_sector_bitmap_data takes a VHD bit as
 * `byte >> (7 - i)` without `& 1`, so the clear bits after a set bit in the same byte count as
 * present and it returns the child's (zero) sectors instead of the parent's. Starts stay
 * unaligned (bytes of the form 0..01..1 are read right), and our own reader is checked at
 * sector granularity against the same model here and in the qemu oracle tests.
 */
const CHILD_END_ALIGN = 4096;

describe.runIf(probe.python !== undefined)(`libvhdi (pyvhdi ${probe.detail}) reads what disklab wrote`, () => {
  const python = probe.python ?? 'python3';
  const { dir, at } = useTempDir('disklab-libvhdi-');

  function disklab(...args: string[]): void {
    execFileSync(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** pyvhdi's view of the chain (top first) and every byte of the top's media. */
  function pyvhdiRead(chain: readonly string[]): { info: PyvhdiFileInfo[]; bytes: Uint8Array } {
    return pyvhdiReadChain(python, at('pyvhdi.out'), chain);
  }

  /**
   * Seeded writes through the `disklab io` command: byte patterns and zeroes at byte offsets and
   * lengths that need not be sector-aligned and often cross the 2 MiB block boundaries. With
   * `endAlign` every write ends on a multiple of it (see CHILD_END_ALIGN).
   */
  function ioWrites(file: string, model: Uint8Array, seed: number, count: number, endAlign = 1): void {
    const r = seededRandom(seed);
    const cmds: string[] = [];
    for (let i = 0; i < count; i++) {
      let len = 1 + Math.floor(r() * (r() < 0.3 ? 3 * MiB : 20_000));
      const off = Math.floor(r() * (model.length - len));
      len = Math.min(model.length, Math.ceil((off + len) / endAlign) * endAlign) - off;
      if (i % 5 === 4) {
        cmds.push('-c', `write -z ${off} ${len}`);
        model.fill(0, off, off + len);
      } else {
        const byte = 1 + Math.floor(r() * 255);
        cmds.push('-c', `write -P 0x${byte.toString(16)} ${off} ${len}`);
        model.fill(byte, off, off + len);
      }
    }
    disklab('io', '-f', 'vhd', file, ...cmds);
  }

  /** Seeded random bytes (not patterns) written in whole sectors through our writable disk. */
  async function randomWrites(file: string, model: Uint8Array, seed: number, count: number, endAlign = 512): Promise<void> {
    const r = seededRandom(seed);
    const image = await openImage(file, { format: 'vhd', readOnly: false });
    try {
      const sectors = model.length / 512;
      const align = endAlign / 512;
      for (let i = 0; i < count; i++) {
        let n = 1 + Math.floor(r() * (r() < 0.2 ? 4096 : 64));
        const lba = Math.floor(r() * (sectors - n));
        n = Math.min(sectors, Math.ceil((lba + n) / align) * align) - lba;
        const data = new Uint8Array(n * 512);
        for (let k = 0; k < data.length; k++) data[k] = Math.floor(r() * 256);
        await image.disk.write(lba, data);
        model.set(data, lba * 512);
      }
      await image.disk.flush();
    } finally {
      await image.disk.close();
    }
  }

  async function oursRead(file: string): Promise<Uint8Array> {
    const image = await openImage(file, { readOnly: true });
    try {
      const out = new Uint8Array(image.disk.sectorCount() * image.disk.sectorSize);
      for (let lba = 0; lba < image.disk.sectorCount(); lba += 2048) {
        await image.disk.read(lba, out.subarray(lba * 512, Math.min(out.length, (lba + 2048) * 512)));
      }
      return out;
    } finally {
      await image.disk.close();
    }
  }

  it('a fixed VHD', async () => {
    const size = 5 * MiB + 7 * 512;
    const model = new Uint8Array(size);
    disklab('create', '-f', 'vhd', '-o', 'subformat=fixed', 'fixed.vhd', String(size));
    ioWrites(at('fixed.vhd'), model, 11, 20);
    await randomWrites(at('fixed.vhd'), model, 12, 20);
    const { info, bytes } = pyvhdiRead([at('fixed.vhd')]);
    expect(info[0]).toMatchObject({ mediaSize: size, diskType: DISK_TYPE.fixed, bytesPerSector: 512 });
    expectSameBytes(bytes, model, 'pyvhdi reading fixed.vhd');
  });

  it('a dynamic VHD whose size is not a whole number of blocks', async () => {
    const size = 11 * MiB + 3 * 512;
    const model = new Uint8Array(size);
    disklab('create', '-f', 'vhd', '-o', 'subformat=dynamic', 'dynamic.vhd', String(size));
    ioWrites(at('dynamic.vhd'), model, 21, 30);
    await randomWrites(at('dynamic.vhd'), model, 22, 40);
    const { info, bytes } = pyvhdiRead([at('dynamic.vhd')]);
    expect(info[0]).toMatchObject({ mediaSize: size, diskType: DISK_TYPE.dynamic, bytesPerSector: 512 });
    expectSameBytes(bytes, model, 'pyvhdi reading dynamic.vhd');
    expectSameBytes(await oursRead(at('dynamic.vhd')), model, 'disklab reading dynamic.vhd');
  });

  it('a three-deep differencing chain: every level read through its parents', async () => {
    const size = 9 * MiB;
    const base = new Uint8Array(size);
    disklab('create', '-f', 'vhd', '-o', 'subformat=dynamic', 'base.vhd', String(size));
    ioWrites(at('base.vhd'), base, 31, 25);
    await randomWrites(at('base.vhd'), base, 32, 30);

    // mid: children start empty (reading their parent), then sparse writes leave blocks with
    // partly set sector bitmaps, and zero writes must hide the parent's data.
    disklab('create', '-f', 'vhd', '-b', 'base.vhd', 'mid.vhd');
    const mid = base.slice();
    expectSameBytes(pyvhdiRead([at('mid.vhd'), at('base.vhd')]).bytes, mid, 'pyvhdi reading an empty child');
    ioWrites(at('mid.vhd'), mid, 33, 25, CHILD_END_ALIGN);
    await randomWrites(at('mid.vhd'), mid, 34, 30, CHILD_END_ALIGN);

    disklab('create', '-f', 'vhd', '-b', 'mid.vhd', 'top.vhd');
    const top = mid.slice();
    ioWrites(at('top.vhd'), top, 35, 25, CHILD_END_ALIGN);
    await randomWrites(at('top.vhd'), top, 36, 30, CHILD_END_ALIGN);

    const chain = [at('top.vhd'), at('mid.vhd'), at('base.vhd')];
    const { info, bytes } = pyvhdiRead(chain);
    expectSameBytes(bytes, top, 'pyvhdi reading top.vhd <- mid.vhd <- base.vhd');
    expect(info.map((i) => i.diskType)).toEqual([DISK_TYPE.differencing, DISK_TYPE.differencing, DISK_TYPE.dynamic]);
    expect(info.map((i) => i.mediaSize)).toEqual([size, size, size]);
    // Each child names its parent by the parent's unique id and its file name.
    expect(info[0]?.parentIdentifier).toBe(info[1]?.identifier);
    expect(info[1]?.parentIdentifier).toBe(info[2]?.identifier);
    expect(info[0]?.parentFilename).toBe('mid.vhd');
    expect(info[1]?.parentFilename).toBe('base.vhd');
    expectSameBytes(pyvhdiRead([at('mid.vhd'), at('base.vhd')]).bytes, mid, 'pyvhdi reading mid.vhd <- base.vhd');
    expectSameBytes(pyvhdiRead([at('base.vhd')]).bytes, base, 'pyvhdi reading base.vhd');
    expectSameBytes(await oursRead(at('top.vhd')), top, 'disklab reading top.vhd');
  });

  it('reads the committed qemu-made VHD and VHDX fixtures to the hashes qemu-img recorded', async () => {
    const { createHash } = await import('node:crypto');
    const fixtures = path.join(root, 'fixtures', 'images');
    const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8')) as {
      images: { file: string; format: string; virtualSize: number; rawSha256: string; logicalSectorSize?: number }[];
    };
    const images = manifest.images.filter((i) => i.format === 'vpc' || i.format === 'vhdx');
    expect(images.map((i) => i.format)).toContain('vhdx');
    for (const image of images) {
      const { info, bytes } = pyvhdiRead([path.join(fixtures, image.file)]);
      expect(info[0]?.mediaSize, image.file).toBe(image.virtualSize);
      expect(info[0]?.bytesPerSector, image.file).toBe(image.logicalSectorSize ?? 512);
      expect(createHash('sha256').update(bytes).digest('hex'), `${image.file}: pyvhdi's bytes`).toBe(image.rawSha256);
    }
  });
});
