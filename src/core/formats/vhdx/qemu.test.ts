/**
 * Oracle tests: VHDX images made by qemu-img/qemu-io, read by us, compared byte for byte with
 * `qemu-img convert -O raw`. Registered only when qemu-img is installed (and required in CI).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import type { Disk } from '../../disk/disk.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { expectDiskError, expectSameBytes } from '../../testing/disk-conformance.ts';
import { imageFileFromSync } from '../image-file.ts';
import { LOGICAL_SECTOR_SIZE_GUID, METADATA_REGION_GUID, PAGE83_GUID } from './guid.ts';
import { openVhdx } from './open.ts';
import { seededRandom as rng } from '../../testing/seeded-random.ts';
import { qemuToolsAvailable } from '../../../node/qemu-tools.ts';

const haveQemu = qemuToolsAvailable();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-vhdx-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const MiB = 1024 * 1024;
const fresh = (ext: string) => path.join(dir, `i${counter++}.${ext}`);

/** Seeded xorshift32, for reproducible random images. */

function create(size: number, opts: string[] = []): string {
  const p = fresh('vhdx');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', ...opts.flatMap((o) => ['-o', o]), p, String(size)]);
  return p;
}

/** Scattered qemu-io writes of random byte patterns at random 512-aligned places. */
function scatter(p: string, size: number, seed: number, writes: number): void {
  const r = rng(seed);
  const cmds: string[] = [];
  for (let i = 0; i < writes; i++) {
    const len = Math.max(1, Math.floor(r() * 64)) * 512;
    const off = Math.floor((r() * (size - len)) / 512) * 512;
    if (i % 7 === 6) cmds.push('-c', `write -z ${off} ${len}`);
    else cmds.push('-c', `write -P ${1 + Math.floor(r() * 255)} ${off} ${len}`);
  }
  execFileSync('qemu-io', ['-f', 'vhdx', ...cmds, p], { stdio: 'ignore' });
}

function oracle(p: string): Uint8Array {
  const raw = fresh('raw');
  execFileSync('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', p, raw]);
  return new Uint8Array(fs.readFileSync(raw));
}

async function open(p: string): Promise<Disk> {
  return openDisk(await openVhdx(imageFileFromSync(new NodeSyncFile(p, { readOnly: true }), { name: p, writable: false })));
}

async function readAll(disk: Disk): Promise<Uint8Array> {
  const out = new Uint8Array(disk.sectorCount() * disk.sectorSize);
  const step = Math.max(1, Math.floor((3 * 1024 * 1024 + 512) / disk.sectorSize));
  for (let lba = 0; lba < disk.sectorCount(); lba += step) {
    const n = Math.min(step, disk.sectorCount() - lba);
    await disk.read(lba, out.subarray(lba * disk.sectorSize, (lba + n) * disk.sectorSize));
  }
  return out;
}

/** Finds a metadata item in a qemu-made file by walking its region and metadata tables (independently of our parser). */
function metadataItemOffset(bytes: Uint8Array, guid: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rt = 192 * 1024;
  for (let i = 0; i < v.getUint32(rt + 8, true); i++) {
    const at = rt + 16 + 32 * i;
    if (!bytes.subarray(at, at + 16).every((b, k) => b === METADATA_REGION_GUID[k])) continue;
    const meta = Number(v.getBigUint64(at + 16, true));
    for (let j = 0; j < v.getUint16(meta + 10, true); j++) {
      const e = meta + 32 + 32 * j;
      if (bytes.subarray(e, e + 16).every((b, k) => b === guid[k])) return meta + v.getUint32(e + 16, true);
    }
  }
  throw new Error('metadata item not found');
}

async function compareWithQemu(p: string, expectSectorSize = 512): Promise<Disk> {
  const expected = oracle(p);
  const disk = await open(p);
  expect(disk.sectorSize).toBe(expectSectorSize);
  expect(disk.sectorCount() * disk.sectorSize).toBe(expected.length);
  expectSameBytes(await readAll(disk), expected, p);
  return disk;
}

if (haveQemu) {
  describe('VHDX read against qemu-img convert', () => {
    it('dynamic images with scattered writes, several sizes and block sizes', async () => {
      const cases: Array<[number, string[]]> = [
        [5 * 1024 * 1024 + 3 * 512, []],
        [40 * 1024 * 1024, ['block_size=1M']],
        [33 * 1024 * 1024 + 512, ['block_size=2M']],
        [20 * 1024 * 1024, ['block_size=8M', 'block_state_zero=off']],
      ];
      let seed = 1;
      for (const [size, opts] of cases) {
        const p = create(size, opts);
        scatter(p, size, seed++, 40);
        const disk = await compareWithQemu(p);
        expect(disk.diskType).toBe('vhdx');
        expect(disk.readOnly).toBe(true);
        const id = fs.readFileSync(p).subarray(metadataItemOffset(new Uint8Array(fs.readFileSync(p)), PAGE83_GUID));
        expect([...disk.diskId!]).toEqual([...id.subarray(0, 16)]);
        await disk.close();
      }
    });

    it('a fixed image and one with a 2 MiB log', async () => {
      const fixed = create(6 * 1024 * 1024, ['subformat=fixed']);
      scatter(fixed, 6 * 1024 * 1024, 77, 30);
      await (await compareWithQemu(fixed)).close();
      const logged = create(9 * 1024 * 1024, ['log_size=2M']);
      scatter(logged, 9 * 1024 * 1024, 78, 30);
      await (await compareWithQemu(logged)).close();
    });

    it('an image converted from random raw data with holes', async () => {
      const raw = fresh('raw');
      const size = 12 * 1024 * 1024;
      const data = new Uint8Array(size);
      const r = rng(99);
      for (let at = 0; at < size; at += 64 * 1024) if (r() < 0.4) for (let i = at; i < at + 64 * 1024; i++) data[i] = Math.floor(r() * 256);
      fs.writeFileSync(raw, data);
      const p = fresh('vhdx');
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'block_size=1M', raw, p]);
      const disk = await open(p);
      expectSameBytes(await readAll(disk), data, 'converted image');
      await disk.close();
    });

    it('4096-byte logical sectors (qemu makes and reads only 512: a qemu image is patched, same bytes expected)', async () => {
      const size = 24 * 1024 * 1024;
      const p = create(size, ['block_size=1M']);
      scatter(p, size, 5, 40);
      // With 24 blocks no sector bitmap entry falls inside the BAT at either sector size, so the
      // layout is unchanged and the disk's bytes are what qemu reads before the patch.
      const expected = oracle(p);
      const bytes = new Uint8Array(fs.readFileSync(p));
      new DataView(bytes.buffer).setUint32(metadataItemOffset(bytes, LOGICAL_SECTOR_SIZE_GUID), 4096, true);
      fs.writeFileSync(p, bytes);
      const disk = await open(p);
      expect(disk.sectorSize).toBe(4096);
      expect(disk.physicalSectorSize).toBe(4096);
      expect(disk.sectorCount()).toBe(size / 4096);
      expectSameBytes(await readAll(disk), expected, '4096-sector image');
      await disk.close();
    });

    it('a 5 GiB image with 1 MiB blocks: payload entries past the first chunk skip the sector bitmap entry', async () => {
      // Chunk ratio 4096 at 512-byte sectors: block 4096 is BAT entry 4097, not 4096.
      const size = 5 * 1024 * MiB;
      const p = create(size, ['block_size=1M']);
      const spots = [4095 * MiB - 4096, 4096 * MiB - 512, 4097 * MiB + 123 * 512, 5000 * MiB, size - 8192];
      const cmds = spots.flatMap((off, i) => ['-c', `write -P ${0x31 + i} ${off} 8192`]);
      execFileSync('qemu-io', ['-f', 'vhdx', ...cmds.slice(0, -2), '-c', `write -P 99 ${size - 8192} 8192`, p], { stdio: 'ignore' });
      const raw = fresh('raw');
      execFileSync('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', p, raw]);
      const fd = fs.openSync(raw, 'r');
      const disk = await open(p);
      let nonZero = 0;
      try {
        for (const off of [4094 * MiB, 4095 * MiB, 4096 * MiB, 4097 * MiB, 4098 * MiB, 5000 * MiB, size - MiB]) {
          const want = new Uint8Array(MiB);
          fs.readSync(fd, want, 0, MiB, off);
          const got = new Uint8Array(MiB);
          await disk.read(off / 512, got);
          expectSameBytes(got, want, `MiB at ${off}`);
          if (want.some((b) => b !== 0)) nonZero++;
        }
        expect(nonZero).toBe(6);
      } finally {
        fs.closeSync(fd);
        await disk.close();
      }
    });

    it('is read-only: writes and unmaps are refused, opening writable is UNSUPPORTED', async () => {
      const p = create(2 * 1024 * 1024);
      const disk = await open(p);
      await expectDiskError(disk.write(0, new Uint8Array(512)), 'READ_ONLY');
      await expectDiskError(disk.unmap(0, 1), 'READ_ONLY');
      await expectDiskError(disk.read(4096, new Uint8Array(512)), 'OUT_OF_RANGE');
      await disk.flush();
      await disk.close();
      const file = imageFileFromSync(new NodeSyncFile(p, { readOnly: true }), { name: p, writable: false });
      await expectDiskError(openVhdx(file, { readOnly: false }), 'UNSUPPORTED');
    });
  });
}
