/**
 * Oracle tests for writing qcow2: seeded random writes and unmaps through our writer, then
 * `qemu-img check` must find no errors and no leaks and `qemu-img convert -O raw` must give our
 * byte model. Covers images we create (several cluster sizes), and qemu-made images: stand-alone
 * with zero and compressed clusters, and overlays over qcow2, raw and VHD (vpc) backing files.
 * Registered only when qemu-img/qemu-io exist (required on CI).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Disk } from '../../disk/disk.ts';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import { nodeInflate } from '../../../node/node-inflate.ts';
import { qemuToolsAvailable } from '../../../node/qemu-tools.ts';
import { expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { seededRandom } from '../../testing/seeded-random.ts';
import { imageFileFromSync, type ImageFile } from '../image-file.ts';
import { createQcow2 } from './create.ts';
import { openQcow2 } from './open.ts';

const hasQemu = qemuToolsAvailable();
const dir = hasQemu ? mkdtempSync(join(tmpdir(), 'qcow2-write-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const at = (name: string): string => join(dir, name);
const img = (...args: string[]): string => execFileSync('qemu-img', args, { encoding: 'utf8' });
const qio = (format: string, path: string, ...cmds: string[]): void => {
  execFileSync('qemu-io', ['-f', format, ...cmds.flatMap((c) => ['-c', c]), path], { stdio: 'ignore' });
};
const file = (path: string, writable: boolean, create = false): ImageFile =>
  imageFileFromSync(new NodeSyncFile(path, create ? { create } : { readOnly: !writable }), { name: path, writable });

async function openRw(path: string): Promise<Disk> {
  return openQcow2(file(path, true), {
    inflate: nodeInflate,
    writable: true,
    resolveBacking: async (name) => file(name.startsWith('/') ? name : at(name), false),
  });
}

function qemuRaw(path: string): Uint8Array {
  const out = at(`raw-${Math.random().toString(36).slice(2)}.img`);
  img('convert', '-O', 'raw', path, out);
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(out);
  return bytes;
}

function expectQemuCheckClean(path: string): void {
  const r = spawnSync('qemu-img', ['check', '--output=json', path], { encoding: 'utf8' });
  expect(r.status, `qemu-img check ${path}: ${r.stdout}${r.stderr}`).toBe(0);
  const json = JSON.parse(r.stdout) as Record<string, number | undefined>;
  expect(json['leaks'] ?? 0).toBe(0);
  expect(json['corruptions'] ?? 0).toBe(0);
  expect(json['check-errors']).toBe(0);
}

/** Seeded writes (unaligned, small and large) and unmaps through our writer, mirrored in `model`. */
async function randomWrites(path: string, model: Uint8Array, seed: number, ops: number): Promise<void> {
  const disk = await openRw(path);
  const rnd = seededRandom(seed);
  const sectors = disk.sectorCount();
  for (let i = 0; i < ops; i++) {
    const lba = Math.floor(rnd() * sectors);
    const n = Math.max(1, Math.min(sectors - lba, 1 + Math.floor(rnd() * (rnd() < 0.25 ? 600 : 24))));
    if (rnd() < 0.15) {
      await disk.unmap(lba, n);
      model.fill(0, lba * 512, (lba + n) * 512);
    } else {
      const data = pattern(n * 512, seed * 7919 + i);
      await disk.write(lba, data);
      model.set(data, lba * 512);
    }
    if (rnd() < 0.05) await disk.flush();
  }
  await disk.close();
}

async function writeAndCompare(path: string, seed: number, ops = 250): Promise<void> {
  const model = qemuRaw(path);
  await randomWrites(path, model, seed, ops);
  expectQemuCheckClean(path);
  expectSameBytes(qemuRaw(path), model, path);
}

describe.runIf(hasQemu)('qcow2 writer against qemu-img', () => {
  for (const cs of [65536, 4096, 512]) {
    it(`writes images it created (${cs}-byte clusters) that qemu-img checks clean and reads as written`, async () => {
      const path = at(`ours-${cs}.qcow2`);
      const image = file(path, true, true);
      await createQcow2(image, 12 * 2 ** 20, { clusterSize: cs });
      await image.close();
      expectQemuCheckClean(path);
      const info = JSON.parse(img('info', '--output=json', path)) as { 'cluster-size': number; 'virtual-size': number; 'format-specific': { data: { compat: string; 'refcount-bits': number } } };
      expect(info).toMatchObject({ 'cluster-size': cs, 'virtual-size': 12 * 2 ** 20, 'format-specific': { data: { compat: '1.1', 'refcount-bits': 16 } } });
      await writeAndCompare(path, cs, cs === 512 ? 600 : 250);
      // With 512-byte clusters one refcount table cluster covers 8 MiB of file: it had to grow and move.
      const tableOffset = new DataView(new Uint8Array(readFileSync(path)).buffer).getUint32(52);
      if (cs === 512) expect(tableOffset).not.toBe(512);
    });
  }

  it('writes qemu-made images with zero and compressed clusters (v3 and v2)', async () => {
    for (const compat of ['1.1', '0.10']) {
      const src = at(`src-${compat}.qcow2`);
      img('create', '-q', '-f', 'qcow2', '-o', `compat=${compat},cluster_size=16k`, src, '6M');
      qio('qcow2', src, 'write -P 0x11 0 2M', 'write -z 1M 64k', 'write -P 0x12 3M 1M');
      const comp = at(`comp-${compat}.qcow2`);
      img('convert', '-c', '-O', 'qcow2', '-o', `compat=${compat},cluster_size=16k`, src, comp);
      await writeAndCompare(src, compat === '1.1' ? 3 : 4);
      await writeAndCompare(comp, compat === '1.1' ? 5 : 6);
    }
  });

  it('writes qemu-made overlays over qcow2, raw and vpc backing files, copying partial clusters from below', async () => {
    const base = at('base.qcow2');
    img('create', '-q', '-f', 'qcow2', base, '8M');
    qio('qcow2', base, 'write -P 0x21 0 5M', 'write -z 1M 128k');
    const raw = at('base.raw');
    img('create', '-q', '-f', 'raw', raw, '6M'); // smaller than the overlay: the rest reads as zeroes
    qio('raw', raw, 'write -P 0x22 0 6M');
    const vhd = at('base.vhd');
    img('create', '-q', '-f', 'vpc', vhd, '8M');
    qio('vpc', vhd, 'write -P 0x23 512k 3M');
    for (const [backing, fmt, seed] of [[base, 'qcow2', 11], [raw, 'raw', 12], [vhd, 'vpc', 13]] as const) {
      const top = at(`top-${fmt}.qcow2`);
      img('create', '-q', '-f', 'qcow2', '-b', backing, '-F', fmt, top, '8M');
      qio('qcow2', top, 'write -P 0x31 64k 64k');
      const before = readFileSync(backing);
      await writeAndCompare(top, seed);
      expect(readFileSync(backing).equals(before), `${fmt} backing file is untouched`).toBe(true);
    }
  });

  it('leaves images that qemu-io then writes and reads consistently', async () => {
    const path = at('shared.qcow2');
    const image = file(path, true, true);
    await createQcow2(image, 4 * 2 ** 20);
    await image.close();
    const model = qemuRaw(path);
    await randomWrites(path, model, 21, 100);
    qio('qcow2', path, 'write -P 0x5a 1M 200k', 'discard 2M 64k');
    model.fill(0x5a, 2 ** 20, 2 ** 20 + 200 * 1024);
    model.fill(0, 2 * 2 ** 20, 2 * 2 ** 20 + 65536);
    expectQemuCheckClean(path);
    expectSameBytes(qemuRaw(path), model);
    await randomWrites(path, model, 22, 100);
    expectQemuCheckClean(path);
    expectSameBytes(qemuRaw(path), model);
  });
});
