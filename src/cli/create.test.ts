// `disklab create -f qcow2`: qemu-img's "Formatting" line, the header fields qemu-img info
// reports (checked against qemu-img when it exists), a backing file with -b/-F (size taken from
// it), cluster_size, and one-line errors for bad options.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuToolsAvailable } from '../node/qemu-tools.ts';
import { runDisklab as disklab } from './testing/run-cli.ts';

const hasQemu = qemuToolsAvailable();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-create-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => path.join(dir, name);

describe('disklab create -f qcow2', () => {
  it('creates a v3 image with 64 KiB clusters laid out as qemu-img does', async () => {
    const p = at('plain.qcow2');
    const r = await disklab('create', '-f', 'qcow2', p, '1G');
    expect(r).toMatchObject({ status: 0, err: '' });
    expect(r.out).toBe(`Formatting '${p}', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=1073741824 lazy_refcounts=off refcount_bits=16\n`);
    expect(fs.statSync(p).size).toBe(3 * 65536 + 16); // header, refcount table, refcount block, then the L1 table
    const check = await disklab('check', '--output=json', p);
    expect(check.status).toBe(0);
    expect(JSON.parse(check.out)).toMatchObject({ leaks: 0, corruptions: 0, 'check-errors': 0 });
    const info = JSON.parse((await disklab('info', '--output=json', p)).out);
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 1 << 30 });
  });

  it('records a backing file and format, taking the size from the backing file', async () => {
    const base = at('base.raw');
    fs.writeFileSync(base, new Uint8Array(3 << 20).fill(7));
    const top = at('top.qcow2');
    const r = await disklab('create', '-f', 'qcow2', '-o', 'cluster_size=4k', '-b', 'base.raw', '-F', 'raw', top);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toContain('cluster_size=4096');
    expect(r.out).toContain('size=3145728 backing_file=base.raw backing_fmt=raw');
    const io = await disklab('io', top, '-c', 'write -P 0x9 4096 512', '-c', 'read -P 7 0 4096', '-c', 'read -P 9 4096 512', '-c', 'read -P 7 4608 3584');
    expect(io.status, io.out + io.err).toBe(0);
    expect(fs.readFileSync(base).every((b) => b === 7)).toBe(true);
  });

  it('detects the backing format when -F is not given', async () => {
    const base = at('detect-base.qcow2');
    expect((await disklab('create', '-f', 'qcow2', base, '2M')).status).toBe(0);
    const r = await disklab('create', '-f', 'qcow2', '-b', base, at('detect-top.qcow2'));
    expect(r.status, r.err).toBe(0);
    expect(r.out).toContain(`backing_file=${base} backing_fmt=qcow2`);
  });

  it('refuses bad options with one-line errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['create', '-f', 'qcow2', '-o', 'cluster_size=3000', at('bad1.qcow2'), '1M'], /cluster size 3000 must be a power of two/],
      [['create', '-f', 'qcow2', '-o', 'subformat=fixed', at('bad2.qcow2'), '1M'], /unknown option 'subformat'/],
      [['create', '-f', 'qcow2', at('bad3.qcow2')], /a size is needed/],
      [['create', '-f', 'qcow2', '-b', at('missing.raw'), at('bad4.qcow2')], /missing\.raw/],
      [['create', '-f', 'qcow2', '-F', 'vhdx', '-b', at('base.raw'), at('bad5.qcow2'), '1M'], /backing format 'vhdx' is not one of qcow2, raw, vpc/],
    ];
    for (const [argv, message] of cases) {
      const r = await disklab(...argv);
      expect(r.status, argv.join(' ')).toBe(1);
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
      expect(fs.existsSync(argv[argv.length - 1] === '1M' ? argv[argv.length - 2]! : argv[argv.length - 1]!)).toBe(false);
    }
  });

  it.runIf(hasQemu)('is read by qemu-img info as qemu-img create would make it', () => {
    const ours = at('plain.qcow2');
    const theirs = at('theirs.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', theirs, '1G']).status).toBe(0);
    const info = (p: string) => {
      const json = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', p], { encoding: 'utf8' }).stdout) as Record<string, unknown>;
      delete json['filename'];
      delete json['actual-size'];
      return json;
    };
    expect(info(ours)).toEqual(info(theirs));
    expect(fs.statSync(ours).size).toBe(fs.statSync(theirs).size);
    expect(spawnSync('qemu-img', ['compare', ours, theirs]).status).toBe(0);
  });
});
