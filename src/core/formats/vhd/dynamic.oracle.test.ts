// Oracle tests: our dynamic/differencing VHD reader and writer against qemu-img and qemu-io.
// Registered only where qemu-img exists; in CI (which installs qemu-utils) its absence fails.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { imageFileFromSync, type ImageFile } from '../image-file.ts';
import { createVhdDynamic } from './create-dynamic.ts';
import { VhdDynamicDisk } from './dynamic-disk.ts';
import { openVhdDynamic } from './open-dynamic.ts';
import { seededRandom as rng } from '../../testing/seeded-random.ts';

const hasQemu = spawnSync('qemu-img', ['--version']).status === 0;

it('has qemu-img available when running in CI', () => {
  if (process.env.CI === 'true') expect(hasQemu, 'qemu-img must be installed in CI (apt qemu-utils)').toBe(true);
});

function ok(cmd: string, ...args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const image = (p: string, writable: boolean): ImageFile =>
  imageFileFromSync(new NodeSyncFile(p, { readOnly: !writable }), { name: p, writable });

/** A small deterministic PRNG so a failing case can be replayed. */

async function readAll(disk: { sectorCount(): number; read(lba: number, buf: Uint8Array): Promise<void> }): Promise<Uint8Array> {
  const out = new Uint8Array(disk.sectorCount() * 512);
  const step = 1024; // sectors per read: several reads cross block boundaries
  for (let s = 0; s < disk.sectorCount(); s += step) {
    const n = Math.min(step, disk.sectorCount() - s);
    await disk.read(s, out.subarray(s * 512, (s + n) * 512));
  }
  return out;
}

if (hasQemu) {
  describe('dynamic VHD agrees with qemu-img', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-vhd-oracle-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const at = (name: string) => path.join(dir, name);

    it.each([
      ['CHS-sized', 'subformat=dynamic', '13M'],
      ['force_size', 'subformat=dynamic,force_size=on', '13M'],
      ['force_size, odd size', 'subformat=dynamic,force_size=on', String(13 * 1024 * 1024 + 7 * 512)],
    ])('reads every byte of a QEMU-made dynamic VHD (%s) written by qemu-io at scattered offsets', async (_label, opts, size) => {
      const vhd = at('qemu.vhd');
      fs.rmSync(vhd, { force: true });
      ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', opts, vhd, size);
      const next = rng(7);
      const cmds: string[] = [];
      for (let i = 0; i < 12; i++) {
        const offset = Math.floor(next() * 13 * 2048) * 512; // sector aligned, anywhere
        const len = (1 + Math.floor(next() * 40)) * 512;
        cmds.push('-c', `write -P 0x${(0x10 + i).toString(16)} ${offset} ${len}`);
      }
      cmds.push('-c', `write -P 0xee ${2 * 1024 * 1024 - 1024} 2048`); // straddles blocks 0 and 1
      cmds.push('-c', 'write -P 0x77 700 100'); // sub-sector: QEMU does the read-modify-write
      ok('qemu-io', '-f', 'vpc', ...cmds, vhd);
      ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', vhd, at('qemu.raw'));
      const expected = fs.readFileSync(at('qemu.raw'));
      const opened = await openVhdDynamic(image(vhd, false));
      if (opened.kind !== 'dynamic') throw new Error('expected dynamic');
      expect(opened.disk.sectorCount() * 512).toBe(expected.length);
      expectSameBytes(await readAll(opened.disk), expected, 'qemu image');
      await opened.disk.close();
    });

    it('writes dynamic VHDs that qemu-img info, compare and convert read as written', async () => {
      for (const [name, size, blockSize] of [['ours-2m.vhd', 9 * 1024 * 1024 + 3 * 512, undefined], ['ours-64k.vhd', 3 * 1024 * 1024, 64 * 1024]] as const) {
        const vhd = at(name);
        const created = await createVhdDynamic(imageFileFromSync(new NodeSyncFile(vhd, { create: true }), { name: vhd, writable: true }), size, { blockSize });
        const disk = openDisk(new VhdDynamicDisk(created));
        const model = new Uint8Array(size);
        const next = rng(size);
        for (let i = 0; i < 40; i++) {
          const n = 1 + Math.floor(next() * 300);
          const lba = Math.floor(next() * (size / 512 - n));
          const data = pattern(n * 512, i + 1);
          await disk.write(lba, data, { fua: i % 7 === 0 });
          model.set(data, lba * 512);
        }
        await disk.close();
        const info = JSON.parse(ok('qemu-img', 'info', '--output=json', '-f', 'vpc', vhd)) as { 'virtual-size': number; format: string };
        expect(info).toMatchObject({ format: 'vpc', 'virtual-size': size });
        fs.writeFileSync(at('model.raw'), model);
        ok('qemu-img', 'compare', '-q', '-f', 'raw', '-F', 'vpc', at('model.raw'), vhd);
        ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', vhd, at('back.raw'));
        expectSameBytes(fs.readFileSync(at('back.raw')), model, `${name} via qemu-img convert`);
        // And our reader, reopening the file, agrees.
        const again = await openVhdDynamic(image(vhd, false));
        if (again.kind !== 'dynamic') throw new Error('expected dynamic');
        expectSameBytes(await readAll(again.disk), model, `${name} reopened`);
        await again.disk.close();
      }
    });

    it('reads a chain of a QEMU-made parent and our differencing child; QEMU sees the child alone', async () => {
      const parent = at('parent.vhd');
      ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', parent, '6M');
      ok('qemu-io', '-f', 'vpc', '-c', 'write -P 0x5a 0 3M', '-c', 'write -P 0xa5 4M 1M', parent);
      ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', parent, at('parent.raw'));
      const expected = new Uint8Array(fs.readFileSync(at('parent.raw')));
      const childOnly = new Uint8Array(expected.length);
      const child = at('child.vhd');
      const parentFile = image(parent, false);
      const created = await createVhdDynamic(
        imageFileFromSync(new NodeSyncFile(child, { create: true }), { name: child, writable: true }),
        expected.length, { parent: { file: parentFile, name: 'parent.vhd' } },
      );
      await created.file.close();
      await parentFile.close();
      const opened = await openVhdDynamic(image(child, true), {
        resolveParent: async (candidates) => {
          expect(candidates[0]).toBe('.\\parent.vhd');
          return image(path.join(dir, candidates[0]!.replace('.\\', '')), false);
        },
      });
      if (opened.kind !== 'differencing' || !opened.disk) throw new Error('expected a chain');
      const disk = openDisk(opened.disk);
      const next = rng(3);
      for (let i = 0; i < 30; i++) {
        const n = 1 + Math.floor(next() * 20);
        const lba = Math.floor(next() * (expected.length / 512 - n));
        const data = pattern(n * 512, 100 + i);
        await disk.write(lba, data);
        expected.set(data, lba * 512);
        childOnly.set(data, lba * 512);
      }
      expectSameBytes(await readAll(disk), expected, 'chain');
      await disk.close();
      // QEMU 7.2's vpc driver has no backing-file support: it opens a differencing VHD as if it
      // were dynamic, showing only the child's own sectors (zeros elsewhere).
      const info = JSON.parse(ok('qemu-img', 'info', '--output=json', '-f', 'vpc', child)) as Record<string, unknown>;
      expect(info['backing-filename']).toBeUndefined();
      ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', child, at('child.raw'));
      expectSameBytes(fs.readFileSync(at('child.raw')), childOnly, 'child as QEMU reads it');
    });
  });
}
