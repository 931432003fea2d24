// Oracle tests for disklab info / map / measure: whole outputs compared with qemu-img's for the
// same QEMU-made images (random, seeded chains), allowing only the differences info.ts, map.ts
// and measure.ts document. They need qemu-img and qemu-io (qemuToolsAvailable; required on CI).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../core/testing/seeded-random.ts';
import { qemuToolsAvailable } from '../node/qemu-tools.ts';
import { runDisklab as disklab, mustRun as ok } from './testing/run-cli.ts';

const hasQemu = qemuToolsAvailable();
const qemuMajor = hasQemu ? Number(/version (\d+)/.exec(spawnSync('qemu-img', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 0) : 0;

async function ours(...argv: string[]): Promise<string> {
  const r = await disklab(...argv);
  expect(r.status, `disklab ${argv.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

/** Random qemu-io commands over [0, size): pattern writes, and where asked zero writes (with and without unmap) and discards. */
function randomOps(rand: () => number, size: number, count: number, zeroes: boolean): string[] {
  const sectors = size / 512;
  const ops: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(rand() * Math.min(sectors, 2048));
    const off = Math.floor(rand() * (sectors - len + 1));
    const kind = zeroes ? rand() : 0;
    const range = `${off * 512} ${len * 512}`;
    if (kind < 0.6) ops.push(`write -P ${1 + Math.floor(rand() * 254)} ${range}`);
    else if (kind < 0.8) ops.push(`write -z ${range}`);
    else if (kind < 0.9) ops.push(`write -z -u ${range}`);
    else ops.push(`discard ${range}`);
  }
  return ops;
}

function qemuIo(format: string, file: string, ops: readonly string[]): void {
  if (ops.length > 0) ok('qemu-io', '-f', format, ...ops.flatMap((c) => ['-c', c]), file);
}

// Newer qemu-img (8.0 and later) adds fields QEMU 7.2 does not print, and we follow the 7.2 this
// project tests against: "compressed" (and "filename") in map entries, "children" (the protocol
// node) in info. Dropping them from qemu's side keeps these tests exact on 7.2 and honest later.
function qemuMapJson(...args: string[]): string {
  const text = ok('qemu-img', 'map', '--output=json', ...args);
  if (!/"compressed"|"filename"/.test(text)) return text;
  const entries = (JSON.parse(text) as Array<Record<string, unknown>>).map(({ compressed: _c, filename: _f, ...e }) => e);
  return `[${entries.map((e) => `{ ${Object.entries(e).map(([k, v]) => `"${k}": ${JSON.stringify(v)}`).join(', ')}}`).join(',\n')}]\n`;
}

function qemuInfoJson(...args: string[]): unknown {
  const strip = (o: Record<string, unknown>) => {
    const { children: _c, ...rest } = o;
    return rest;
  };
  const value = JSON.parse(ok('qemu-img', 'info', '--output=json', ...args)) as Record<string, unknown> | Array<Record<string, unknown>>;
  return Array.isArray(value) ? value.map(strip) : strip(value);
}

function qemuInfoHuman(...args: string[]): string {
  return ok('qemu-img', 'info', ...args).replace(/^Child node .*\n(?: {4}.*\n)*/gm, '');
}

const withoutPartitions = (info: Record<string, unknown>) => {
  const { 'partition-table': _p, ...rest } = info;
  return rest;
};

describe.runIf(hasQemu)('disklab info/map/measure agree with qemu-img', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-inspect-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => path.join(dir, name);

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`qcow2 chain #${seed}: map, info --backing-chain and measure print what qemu-img prints`, async () => {
      const rand = seededRandom(seed * 7919);
      const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const layers = 2 + Math.floor(rand() * 2);
      let below: string | undefined;
      let size = (1 + Math.floor(rand() * 24)) * 65536 * 4 + pick([0, 512, 3584]);
      for (let d = layers - 1; d >= 0; d--) {
        const name = `c${seed}-${d}.qcow2`;
        const v2 = rand() < 0.25;
        const cs = pick([4096, 16384, 65536, 131072]);
        const extl2 = !v2 && cs >= 16384 && rand() < 0.3;
        const opts = [`cluster_size=${cs}`, `compat=${v2 ? '0.10' : '1.1'}`, ...(extl2 ? ['extended_l2=on'] : [])].join(',');
        if (d < layers - 1 && rand() < 0.4) size += pick([65536, 1 << 20]); // an overlay larger than its backing file
        const backing = below === undefined ? [] : ['-b', path.basename(below), '-F', 'qcow2'];
        ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', opts, ...backing, at(name), String(size));
        qemuIo('qcow2', at(name), randomOps(rand, size, 4 + Math.floor(rand() * 12), below !== undefined || !v2));
        if (below === undefined && rand() < 0.5) {
          // Compressed clusters in the base: rewrite it through qemu-img convert -c.
          ok('qemu-img', 'convert', '-c', '-f', 'qcow2', '-O', 'qcow2', '-o', opts, at(name), at(`${name}.c`));
          fs.renameSync(at(`${name}.c`), at(name));
        }
        below = at(name);
      }
      const top = below!;

      const theirMap = qemuMapJson(top);
      expect(await ours('map', '--output=json', top)).toBe(theirMap);
      const human = spawnSync('qemu-img', ['map', top], { encoding: 'utf8' });
      const mine = await disklab('map', top);
      expect(mine.out).toBe(human.stdout);
      expect(mine.status === 0).toBe(human.status === 0);

      const theirChain = qemuInfoJson('--backing-chain', top) as Array<Record<string, unknown>>;
      const ourChain = JSON.parse(await ours('info', '--backing-chain', '--output=json', top)) as Array<Record<string, unknown>>;
      expect(ourChain.map(withoutPartitions)).toEqual(theirChain);
      // Key order too, as QEMU 7 prints it (its QDict order; later versions add keys that may move it).
      if (qemuMajor < 8) expect(JSON.stringify(withoutPartitions(ourChain[0]!), null, 4)).toBe(JSON.stringify(theirChain[0], null, 4));
      expect(await ours('info', '--backing-chain', top)).toBe(qemuInfoHuman('--backing-chain', top));
      expect(withoutPartitions(JSON.parse(await ours('info', '--output=json', top)))).toEqual(theirChain[0]);

      for (const o of ['cluster_size=65536', `cluster_size=${pick([512, 4096, 2097152])}`, 'compat=0.10', 'extended_l2=on,refcount_bits=4']) {
        for (const output of ['--output=json', '--output=human']) {
          expect(await ours('measure', output, '-O', 'qcow2', '-o', o, top), o).toBe(ok('qemu-img', 'measure', output, '-O', 'qcow2', '-o', o, top));
        }
      }
      expect(await ours('measure', '--output=json', '-O', 'raw', top)).toBe(ok('qemu-img', 'measure', '--output=json', '-O', 'raw', top));
    });
  }

  for (const base of ['raw', 'vpc'] as const) {
    it(`qcow2 overlay over a ${base} backing file: map, info --backing-chain and measure as qemu-img`, async () => {
      const img = at(`over-${base}.qcow2`);
      const backing = at(`under.${base}`);
      if (base === 'raw') {
        fs.writeFileSync(backing, Buffer.alloc(6 << 20, 0x5a)); // written in full: no holes for qemu to find (see map.ts)
      } else {
        ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', backing, '6M');
        qemuIo('vpc', backing, ['write -P 9 2M 1M', 'write -P 8 5M 4k']);
      }
      ok('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', path.basename(backing), '-F', base, img);
      qemuIo('qcow2', img, ['write -P 3 1M 64k', 'write -z 2M 128k', 'write -P 4 2560k 4k']);
      expect(await ours('map', '--output=json', img)).toBe(qemuMapJson(img));
      expect(await ours('map', img)).toBe(ok('qemu-img', 'map', img));
      const theirs = qemuInfoJson('--backing-chain', img) as Array<Record<string, unknown>>;
      const mine = (JSON.parse(await ours('info', '--backing-chain', '--output=json', img)) as Array<Record<string, unknown>>).map(withoutPartitions);
      // A VHD's format-specific is our extension (qemu prints none for vpc).
      expect(mine.map((i) => (i.format === 'vpc' ? { ...i, 'format-specific': undefined } : i))).toEqual(theirs.map((i) => (i.format === 'vpc' ? { ...i, 'format-specific': undefined } : i)));
      for (const o of ['cluster_size=65536', 'cluster_size=4096']) {
        expect(await ours('measure', '--output=json', '-O', 'qcow2', '-o', o, img)).toBe(ok('qemu-img', 'measure', '--output=json', '-O', 'qcow2', '-o', o, img));
      }
    });
  }

  it('maps qcow2 zero clusters that keep their host cluster with an offset, and plain ones without', async () => {
    const img = at('zalloc.qcow2');
    ok('qemu-img', 'create', '-q', '-f', 'qcow2', img, '4M');
    qemuIo('qcow2', img, ['write -P 7 0 1M', 'write -z 128k 128k', 'write -z -u 512k 64k', 'write -z 2M 64k']);
    const out = await ours('map', '--output=json', img);
    expect(out).toBe(qemuMapJson(img));
    expect(out).toMatch(/"zero": true, "data": false, "offset": \d+/); // the ZERO_ALLOC case is really covered
  });

  for (const seed of [11, 12, 13]) {
    it(`dynamic VHD #${seed}: map and measure print what qemu-img prints; info has qemu's fields`, async () => {
      const rand = seededRandom(seed * 104729);
      const img = at(`d${seed}.vhd`);
      ok('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', img, String((4 + Math.floor(rand() * 40)) << 20));
      const size = (JSON.parse(ok('qemu-img', 'info', '--output=json', img)) as { 'virtual-size': number })['virtual-size'];
      qemuIo('vpc', img, randomOps(rand, size, 3 + Math.floor(rand() * 8), false));
      expect(await ours('map', '--output=json', img)).toBe(qemuMapJson(img));
      expect(await ours('map', img)).toBe(ok('qemu-img', 'map', img));
      for (const o of ['cluster_size=65536', 'cluster_size=1M']) {
        expect(await ours('measure', '--output=json', '-O', 'qcow2', '-o', o, img)).toBe(ok('qemu-img', 'measure', '--output=json', '-O', 'qcow2', '-o', o, img));
      }
      const theirs = qemuInfoJson(img) as Record<string, unknown>;
      const mine = JSON.parse(await ours('info', '--output=json', img)) as Record<string, unknown>;
      // qemu prints no format-specific for vpc; ours is a documented extension.
      expect(mine).toMatchObject(theirs);
      expect(mine['cluster-size']).toBe(2 << 20);
    });
  }

  it('VHDX: info has qemu\'s fields (block size as cluster-size); map offsets point at the guest\'s bytes', async () => {
    const img = at('x.vhdx');
    ok('qemu-img', 'create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', img, '24M');
    qemuIo('vhdx', img, ['write -P 0x61 5000000 123456', 'write -P 0x62 0 4096', 'write -P 0x63 23M 1M', 'write -P 0x64 9M 2M']);
    const theirs = qemuInfoJson(img) as Record<string, unknown>;
    expect(JSON.parse(await ours('info', '--output=json', img))).toMatchObject(theirs);
    ok('qemu-img', 'convert', '-f', 'vhdx', '-O', 'raw', img, at('x.raw'));
    const guest = fs.readFileSync(at('x.raw'));
    const file = fs.readFileSync(img);
    const extents = JSON.parse(await ours('map', '--output=json', img)) as Array<{ start: number; length: number; data: boolean; zero: boolean; offset?: number }>;
    expect(extents.reduce((n, e) => n + e.length, 0)).toBe(24 << 20);
    const data = extents.filter((e) => e.data);
    expect(data.map((e) => [e.start, e.length])).toEqual([[0, 1 << 20], [4 << 20, 1 << 20], [9 << 20, 2 << 20], [23 << 20, 1 << 20]]);
    for (const e of data) expect(Buffer.compare(file.subarray(e.offset!, e.offset! + e.length), guest.subarray(e.start, e.start + e.length))).toBe(0);
    for (const e of extents.filter((x) => !x.data)) expect(guest.subarray(e.start, e.start + e.length).every((b) => b === 0)).toBe(true);
  });

  for (const seed of [21, 22, 23, 24, 25]) {
    it(`measures a sparse raw source #${seed} as qemu-img measure does`, async () => {
      const rand = seededRandom(seed * 31337);
      const img = at(`s${seed}.raw`);
      const size = (1 + Math.floor(rand() * 64)) * 65536 + Math.floor(rand() * 128) * 512;
      fs.writeFileSync(img, new Uint8Array(0));
      fs.truncateSync(img, size);
      const fd = fs.openSync(img, 'r+');
      for (let i = 0, n = Math.floor(rand() * 10); i < n; i++) {
        const len = 1 + Math.floor(rand() * 70000);
        const off = Math.floor(rand() * (size - len));
        fs.writeSync(fd, new Uint8Array(len).fill(1 + Math.floor(rand() * 255)), 0, len, off);
      }
      fs.closeSync(fd);
      for (const o of ['cluster_size=65536', 'cluster_size=512', 'cluster_size=4096', `cluster_size=${2 ** (9 + Math.floor(rand() * 13))}`]) {
        for (const output of ['--output=json', '--output=human']) {
          expect(await ours('measure', output, '-O', 'qcow2', '-o', o, img), o).toBe(ok('qemu-img', 'measure', output, '-O', 'qcow2', '-o', o, img));
        }
      }
      expect(await ours('measure', '-O', 'raw', img)).toBe(ok('qemu-img', 'measure', '-O', 'raw', img));
    });
  }

  it('measures new images of random sizes (--size) as qemu-img measure does', async () => {
    const rand = seededRandom(4242);
    for (let i = 0; i < 12; i++) {
      const size = String(Math.floor(rand() * 2 ** (10 + Math.floor(rand() * 32))));
      const cs = 2 ** (9 + Math.floor(rand() * 13));
      const refcount = 2 ** Math.floor(rand() * 7);
      const opts = `cluster_size=${cs},refcount_bits=${refcount}`;
      const theirs = spawnSync('qemu-img', ['measure', '--output=json', '-O', 'qcow2', '-o', opts, '--size', size], { encoding: 'utf8' });
      const mine = await disklab('measure', '--output=json', '-O', 'qcow2', '-o', opts, '--size', size);
      expect(mine.status === 0, `${opts} ${size}: ${mine.err} / ${theirs.stderr}`).toBe(theirs.status === 0);
      if (theirs.status === 0) expect(mine.out, `${opts} --size ${size}`).toBe(theirs.stdout);
      expect(await ours('measure', '--size', size)).toBe(ok('qemu-img', 'measure', '--size', size));
    }
  });
});
