// Oracle tests: disklab against qemu-img / qemu-io on the same images. They run wherever qemu-img
// is on PATH; CI installs it, so there a missing qemu-img is a failure, not a quiet pass.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pattern } from '../core/testing/disk-conformance.ts';
import { runDisklab as disklab } from './testing/run-cli.ts';

const hasQemu = spawnSync('qemu-img', ['--version']).status === 0;

it('has qemu-img available when running in CI', () => {
  if (process.env.CI === 'true') expect(hasQemu, 'qemu-img must be installed in CI (apt qemu-utils)').toBe(true);
});

function tool(cmd: string, ...args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function ok(cmd: string, ...args: string[]): string {
  const r = tool(cmd, ...args);
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

describe.runIf(hasQemu)('disklab agrees with qemu-img', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-oracle-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => path.join(dir, name);

  function randomRaw(name: string, bytes: number, seed: number): string {
    fs.writeFileSync(at(name), pattern(bytes, seed));
    return at(name);
  }

  it('converts a QEMU-made fixed VHD to the same raw bytes as qemu-img convert', async () => {
    const vhd = at('qemu-fixed.vhd');
    ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', vhd, '10M');
    ok('qemu-io', '-f', 'vpc', '-c', 'write -P 0xab 4096 65536', vhd);
    ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', vhd, at('by-qemu.raw'));
    expect((await disklab('convert', '-O', 'raw', vhd, at('by-disklab.raw'))).status).toBe(0);
    const ours = fs.readFileSync(at('by-disklab.raw'));
    expect(ours.length).toBe(fs.statSync(at('by-qemu.raw')).size);
    expect(Buffer.compare(ours, fs.readFileSync(at('by-qemu.raw')))).toBe(0);
    expect(ours.subarray(4096, 4096 + 65536).every((b) => b === 0xab)).toBe(true);
  });

  it('agrees on virtual size and format for QEMU-made images', async () => {
    ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', at('q1.vhd'), '100M');
    ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=fixed,force_size=on', at('q2.vhd'), '10486272');
    ok('qemu-img', 'create', '-q', '-f', 'raw', at('q3.raw'), '3M');
    for (const [name, qemuFormat] of [['q1.vhd', 'vpc'], ['q2.vhd', 'vpc'], ['q3.raw', 'raw']]) {
      // qemu-img only probes VHDs by a footer copy at offset 0, so fixed ones need -f vpc there.
      const theirs = JSON.parse(ok('qemu-img', 'info', '-f', qemuFormat as string, '--output=json', at(name as string)));
      const mine = await disklab('info', '--output=json', at(name as string));
      expect(mine.status).toBe(0);
      const ours = JSON.parse(mine.out);
      expect(ours['virtual-size'], name).toBe(theirs['virtual-size']);
      expect(ours.format, name).toBe(theirs.format);
      expect(ours['actual-size'], name).toBe(theirs['actual-size']);
    }
  });

  it('reads QEMU-made dynamic VHDs: same size and bytes as qemu-img convert', async () => {
    ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', at('dyn.vhd'), '10M');
    ok('qemu-io', '-f', 'vpc', '-c', 'write -P 0x5e 3000000 300000', '-c', 'write -P 0x7a 9000000 4096', at('dyn.vhd'));
    const info = await disklab('info', '--output=json', at('dyn.vhd'));
    expect(info.status).toBe(0);
    const qemuInfo = JSON.parse(ok('qemu-img', 'info', '--output=json', at('dyn.vhd'))) as { 'virtual-size': number };
    expect(JSON.parse(info.out)['virtual-size']).toBe(qemuInfo['virtual-size']);
    ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', at('dyn.vhd'), at('dyn-qemu.raw'));
    expect((await disklab('convert', '-O', 'raw', at('dyn.vhd'), at('dyn-ours.raw'))).status).toBe(0);
    expect(fs.readFileSync(at('dyn-ours.raw')).equals(fs.readFileSync(at('dyn-qemu.raw')))).toBe(true);
  });

  it('reads QEMU-made VHDX: disklab convert gives the bytes qemu-img convert gives', async () => {
    ok('qemu-img', 'create', '-q', '-f', 'vhdx', at('x.vhdx'), '40M');
    ok('qemu-io', '-f', 'vhdx', '-c', 'write -P 0x61 5000000 123456', '-c', 'write -z 5100000 4096', '-c', 'write -P 0x62 39000000 8192', at('x.vhdx'));
    ok('qemu-img', 'convert', '-f', 'vhdx', '-O', 'raw', at('x.vhdx'), at('x-qemu.raw'));
    expect((await disklab('convert', '-O', 'raw', at('x.vhdx'), at('x-ours.raw'))).status).toBe(0);
    expect(fs.readFileSync(at('x-ours.raw')).equals(fs.readFileSync(at('x-qemu.raw')))).toBe(true);
    expect(JSON.parse((await disklab('info', '--output=json', at('x.vhdx'))).out)).toMatchObject({ format: 'vhdx', 'virtual-size': 40 << 20 });
  });

  it('reads a qcow2 overlay over its backing file, with zero and compressed clusters, as qemu-img does', async () => {
    ok('qemu-img', 'create', '-q', '-f', 'raw', at('q-src.raw'), '8M');
    ok('qemu-io', '-f', 'raw', '-c', 'write -P 0x41 0 2M', at('q-src.raw'));
    ok('qemu-img', 'convert', '-c', '-f', 'raw', '-O', 'qcow2', at('q-src.raw'), at('q-base.qcow2'));
    ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'q-base.qcow2', '-F', 'qcow2', at('q-top.qcow2'));
    ok('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x42 1M 64k', '-c', 'write -z 1536k 64k', '-c', 'write -P 0x43 7M 4k', at('q-top.qcow2'));
    ok('qemu-img', 'convert', '-O', 'raw', at('q-top.qcow2'), at('q-qemu.raw'));
    expect((await disklab('convert', '-O', 'raw', at('q-top.qcow2'), at('q-ours.raw'))).status).toBe(0);
    expect(fs.readFileSync(at('q-ours.raw')).equals(fs.readFileSync(at('q-qemu.raw')))).toBe(true);
    const info = JSON.parse((await disklab('info', '--output=json', at('q-top.qcow2'))).out);
    // qemu prints the backing name as the image stores it, and the resolved path beside it.
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 8 << 20, 'backing-filename': 'q-base.qcow2', 'full-backing-filename': at('q-base.qcow2') });
    // map: the same extents and host offsets as qemu-img (newer qemu adds a `compressed` field we do not print).
    const withoutCompressed = (extents: Array<Record<string, unknown>>) => extents.map(({ compressed: _c, ...rest }) => rest);
    const ours = JSON.parse((await disklab('map', '--output=json', at('q-top.qcow2'))).out) as Array<Record<string, unknown>>;
    const theirs = JSON.parse(ok('qemu-img', 'map', '--output=json', at('q-top.qcow2'))) as Array<Record<string, unknown>>;
    expect(withoutCompressed(ours)).toEqual(withoutCompressed(theirs));
  });

  it('checks qcow2 refcounts with qemu-img check\'s exit codes and counts', async () => {
    ok('qemu-img', 'create', '-q', '-f', 'qcow2', at('c.qcow2'), '16M');
    ok('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x11 0 1M', at('c.qcow2'));
    const ours = await disklab('check', '--output=json', at('c.qcow2'));
    expect(ours.status).toBe(0);
    const qemu = JSON.parse(ok('qemu-img', 'check', '--output=json', at('c.qcow2'))) as Record<string, number>;
    const mine = JSON.parse(ours.out) as Record<string, number>;
    for (const key of ['image-end-offset', 'total-clusters', 'allocated-clusters']) expect(mine[key], key).toBe(qemu[key]);
    ok('qemu-img', 'create', '-q', '-f', 'vhdx', at('nocheck.vhdx'), '4M');
    expect((await disklab('check', at('nocheck.vhdx'))).status).toBe(63); // as qemu-img says for formats without checks
  });

  it('writes dynamic VHDs that qemu-img reads as the same bytes', async () => {
    const raw = at('src-dyn.raw');
    const bytes = new Uint8Array(6 << 20);
    for (let i = (1 << 20); i < (2 << 20); i++) bytes[i] = (i * 13) & 0xff;
    fs.writeFileSync(raw, bytes);
    expect((await disklab('convert', '-O', 'vhd', '-o', 'subformat=dynamic', raw, at('ours-dyn.vhd'))).status).toBe(0);
    const compare = spawnSync('qemu-img', ['compare', '-f', 'vpc', '-F', 'raw', at('ours-dyn.vhd'), raw], { encoding: 'utf8' });
    expect(compare.status, compare.stdout + compare.stderr).toBe(0);
    // Holes stay holes: of the three 2 MiB blocks only the one holding data is allocated.
    expect(fs.statSync(at('ours-dyn.vhd')).size).toBeLessThan(3 << 20);
  });

  for (const [label, bytes] of [
    ['CHS-exact (301/4/17)', 301 * 4 * 17 * 512],
    ['not CHS-exact (10 MiB + 3 sectors)', 10 * 1024 * 1024 + 3 * 512],
  ] as const) {
    it(`writes fixed VHDs QEMU reads at exactly the raw size: ${label}`, async () => {
      const raw = randomRaw(`src-${bytes}.raw`, bytes, bytes);
      const vhd = at(`ours-${bytes}.vhd`);
      expect((await disklab('convert', '-O', 'vhd', raw, vhd)).status).toBe(0);
      const info = JSON.parse(ok('qemu-img', 'info', '-f', 'vpc', '--output=json', vhd));
      expect(info['virtual-size']).toBe(bytes);
      expect(tool('qemu-img', 'compare', '-f', 'vpc', '-F', 'raw', vhd, raw)).toMatchObject({ status: 0, out: 'Images are identical.\n' });
      // Fully written, so qemu-img's hole-aware map and ours must print the same thing.
      expect((await disklab('map', '--output=json', vhd)).out).toBe(ok('qemu-img', 'map', '-f', 'vpc', '--output=json', vhd));
    });
  }

  it('agrees with qemu-img compare on identical and differing pairs', async () => {
    const a = randomRaw('cmp-a.raw', 1024 * 1024, 11);
    const same = at('cmp-same.vhd');
    expect((await disklab('convert', '-O', 'vhd', a, same)).status).toBe(0);
    const flipped = at('cmp-flipped.raw');
    const bytes = fs.readFileSync(a);
    bytes[777_777] = (bytes[777_777] ?? 0) ^ 0x10;
    fs.writeFileSync(flipped, bytes);
    const zeroTail = at('cmp-zero-tail.raw');
    fs.copyFileSync(a, zeroTail);
    fs.truncateSync(zeroTail, 2 * 1024 * 1024);
    const dirtyTail = at('cmp-dirty-tail.raw');
    fs.copyFileSync(zeroTail, dirtyTail);
    fs.appendFileSync(dirtyTail, Buffer.from([1]));
    const pairs: [string, string, string, string][] = [
      [same, a, 'vpc', 'raw'],
      [a, flipped, 'raw', 'raw'],
      [same, flipped, 'vpc', 'raw'],
      [a, zeroTail, 'raw', 'raw'],
      [zeroTail, a, 'raw', 'raw'],
      [a, dirtyTail, 'raw', 'raw'],
      [same, at('missing.raw'), 'vpc', 'raw'],
    ];
    for (const [x, y, fx, fy] of pairs) {
      const theirs = tool('qemu-img', 'compare', '-f', fx, '-F', fy, x, y);
      const ours = await disklab('compare', '-f', fx, '-F', fy, x, y);
      const what = `${path.basename(x)} vs ${path.basename(y)}`;
      expect(ours.status, what).toBe(theirs.status);
      if (theirs.status !== 2) expect(ours.out, what).toBe(theirs.out);
    }
  });
});
