// disklab map / info --backing-chain / measure on images qemu cannot check for us: differencing
// VHD chains (over fixed and dynamic bases), the extent merge rules, and the vpc measure.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../node/testing/temp-files.ts';
import { pattern } from '../core/testing/disk-conformance.ts';
import { seededRandom } from '../core/testing/seeded-random.ts';
import { buildVhdx } from '../core/formats/vhdx/testing/builder.ts';
import { pathCombine } from './info.ts';
import { chainExtents, type FileAllocation } from './map-extents.ts';
import { measureQcow2, unitsTouched } from './measure.ts';
import { runDisklab as run } from './testing/run-cli.ts';

const { at } = useTempDir('disklab-inspect-unit-');

async function ok(...argv: string[]): Promise<string> {
  const r = await run(...argv);
  expect(r.status, `disklab ${argv.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

interface Extent {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

describe('chainExtents', () => {
  const file = (size: number, runs: FileAllocation['runs']): FileAllocation => ({ size, runs });

  it('merges neighbours only when every field is equal and the host offsets continue', () => {
    const top = file(4096, [
      { start: 0, length: 512, state: 'data', offset: 1024 },
      { start: 512, length: 512, state: 'data', offset: 1536 }, // continues: merged
      { start: 1024, length: 512, state: 'data', offset: 8192 }, // jumps: a new extent
      { start: 1536, length: 512, state: 'zero' },
      { start: 2048, length: 512, state: 'zero', offset: 4096 }, // one has an offset, one not
    ]);
    expect(chainExtents([top], 4096)).toEqual([
      { start: 0, length: 1024, depth: 0, present: true, zero: false, data: true, offset: 1024 },
      { start: 1024, length: 512, depth: 0, present: true, zero: false, data: true, offset: 8192 },
      { start: 1536, length: 512, depth: 0, present: true, zero: true, data: false },
      { start: 2048, length: 512, depth: 0, present: true, zero: true, data: false, offset: 4096 },
      { start: 2560, length: 1536, depth: 0, present: false, zero: true, data: false },
    ]);
  });

  it('falls through to the backing file, and reports a range past a shorter backing file at the depth above it', () => {
    const top = file(8192, [{ start: 1024, length: 1024, state: 'data', offset: 65536 }]);
    const mid = file(4096, [{ start: 0, length: 4096, state: 'absent', offset: 100 }]);
    const base = file(2048, [{ start: 0, length: 2048, state: 'data', offset: 0 }]);
    expect(chainExtents([top, mid, base], 8192)).toEqual([
      { start: 0, length: 1024, depth: 2, present: true, zero: false, data: true, offset: 0 },
      { start: 1024, length: 1024, depth: 0, present: true, zero: false, data: true, offset: 65536 },
      // Past the base's end, the middle file answers: not present, with its own offset (UNALLOCATED_ALLOC).
      { start: 2048, length: 2048, depth: 1, present: false, zero: true, data: false, offset: 2148 },
      { start: 4096, length: 4096, depth: 0, present: false, zero: true, data: false },
    ]);
  });

  it('gives qemu-img\'s path_combine names', () => {
    expect(pathCombine('top.qcow2', 'base.qcow2')).toBe('base.qcow2');
    expect(pathCombine('/a/b/top.qcow2', 'base.qcow2')).toBe('/a/b/base.qcow2');
    expect(pathCombine('x/top.qcow2', '../base.qcow2')).toBe('x/../base.qcow2');
    expect(pathCombine('/a/top.qcow2', '/c/base.qcow2')).toBe('/c/base.qcow2');
  });
});

describe('disklab map and info on differencing VHD chains', () => {
  for (const baseKind of ['fixed', 'dynamic'] as const) {
    it(`maps a two-level chain over a ${baseKind} base: depths, and offsets that hold the guest's bytes`, async () => {
      const base = at(`${baseKind}-base.vhd`);
      const mid = at(`${baseKind}-mid.vhd`);
      const top = at(`${baseKind}-top.vhd`);
      await ok('create', '-f', 'vhd', '-o', `subformat=${baseKind}`, base, '6M');
      await ok('io', base, '-c', 'write -P 0x11 0 1M', '-c', 'write -P 0x12 4M 512k');
      await ok('create', '-f', 'vhd', '-b', base, mid);
      await ok('io', mid, '-c', 'write -P 0x21 512k 8k', '-c', 'write -P 0x22 2M 4k');
      await ok('create', '-f', 'vhd', '-b', mid, top);
      await ok('io', top, '-c', 'write -P 0x31 516k 1k', '-c', 'write -P 0x32 5M 512');
      const extents = JSON.parse(await ok('map', '--output=json', top)) as Extent[];
      expect(extents.reduce((n, e) => n + e.length, 0)).toBe(6 << 20);
      const files = [top, mid, base].map((f) => fs.readFileSync(f));
      await ok('convert', '-O', 'raw', top, at(`${baseKind}.raw`));
      const guest = fs.readFileSync(at(`${baseKind}.raw`));
      for (const e of extents) {
        if (e.data) {
          expect(e.offset, JSON.stringify(e)).toBeDefined();
          expect(Buffer.compare(files[e.depth]!.subarray(e.offset!, e.offset! + e.length), guest.subarray(e.start, e.start + e.length)), JSON.stringify(e)).toBe(0);
        } else {
          expect(guest.subarray(e.start, e.start + e.length).every((b) => b === 0)).toBe(true);
        }
      }
      const byStart = (s: number) => extents.find((e) => e.start <= s && s < e.start + e.length)!;
      expect(byStart(0)).toMatchObject({ depth: 2, data: true });
      expect(byStart(512 << 10)).toMatchObject({ depth: 1, data: true });
      expect(byStart(516 << 10)).toMatchObject({ depth: 0, data: true, length: 1024 });
      expect(byStart(5 << 20)).toMatchObject({ depth: 0, data: true, length: 512 });
      // What no file holds: a fixed base holds everything; a dynamic base says zero, present, as QEMU's vpc does.
      const hole = byStart(3 << 20);
      expect(hole).toMatchObject(baseKind === 'fixed' ? { depth: 2, data: true, offset: hole.start } : { depth: 2, present: true, zero: true, data: false });
      const human = await ok('map', top);
      expect(human.split('\n')[0]).toBe('Offset          Length          Mapped to       File');
      expect(human).toContain(`0x81000         0x400           `);
      expect(human).toMatch(new RegExp(`^0 +0x80000 +(0|0x[0-9a-f]+) +${base}$`, 'm'));
    });
  }

  it('maps a differencing VHDX over its parent from the BATs and sector bitmaps', async () => {
    const MiB = 1 << 20;
    const guid = '11111111-2222-3333-4444-555555555555';
    const parent = buildVhdx({ virtualSize: 4 * MiB, blockSize: MiB, dataWriteGuid: guid, blocks: new Map([[0, { state: 6, data: pattern(MiB, 1) }], [2, { state: 6, data: pattern(MiB, 2) }]]) });
    const child = buildVhdx({
      virtualSize: 4 * MiB,
      blockSize: MiB,
      blocks: new Map([
        [0, { state: 7, data: pattern(MiB, 3), presentSectors: [0, 1, 2, 100, 101] }],
        [1, { state: 2 }],
        [3, { state: 6, data: pattern(MiB, 4) }],
      ]),
      parent: new Map([['parent_linkage', `{${guid}}`], ['relative_path', '.\\vx-base.vhdx']]),
    });
    fs.writeFileSync(at('vx-base.vhdx'), parent.bytes);
    fs.writeFileSync(at('vx-child.vhdx'), child.bytes);
    const extents = JSON.parse(await ok('map', '--output=json', at('vx-child.vhdx'))) as Extent[];
    expect(extents.map(({ offset: _o, ...e }) => e)).toEqual([
      { start: 0, length: 1536, depth: 0, present: true, zero: false, data: true },
      { start: 1536, length: 49664, depth: 1, present: true, zero: false, data: true },
      { start: 51200, length: 1024, depth: 0, present: true, zero: false, data: true },
      { start: 52224, length: MiB - 52224, depth: 1, present: true, zero: false, data: true },
      { start: MiB, length: MiB, depth: 0, present: true, zero: true, data: false },
      { start: 2 * MiB, length: MiB, depth: 1, present: true, zero: false, data: true },
      { start: 3 * MiB, length: MiB, depth: 0, present: true, zero: false, data: true },
    ]);
    await ok('convert', '-O', 'raw', at('vx-child.vhdx'), at('vx.raw'));
    const guest = fs.readFileSync(at('vx.raw'));
    const files = [child.bytes, parent.bytes];
    for (const e of extents.filter((x) => x.data)) {
      expect(Buffer.compare(Buffer.from(files[e.depth]!.subarray(e.offset!, e.offset! + e.length)), guest.subarray(e.start, e.start + e.length)), JSON.stringify(e)).toBe(0);
    }
    const chain = JSON.parse(await ok('info', '--backing-chain', '--output=json', at('vx-child.vhdx'))) as Array<Record<string, unknown>>;
    expect(chain.map((c) => [c.filename, c.format, c['cluster-size'], c['backing-filename']])).toEqual([
      [at('vx-child.vhdx'), 'vhdx', MiB, at('vx-base.vhdx')],
      [at('vx-base.vhdx'), 'vhdx', MiB, undefined],
    ]);
  });

  it('info --backing-chain prints one entry per file, top first, each file with its own facts', async () => {
    const top = at('dynamic-top.vhd');
    const chain = JSON.parse(await ok('info', '--backing-chain', '--output=json', top)) as Array<Record<string, unknown>>;
    expect(chain.map((c) => c.filename)).toEqual([top, at('dynamic-mid.vhd'), at('dynamic-base.vhd')]);
    expect(chain.map((c) => c['backing-filename'])).toEqual([at('dynamic-mid.vhd'), at('dynamic-base.vhd'), undefined]);
    expect(chain.map((c) => c['full-backing-filename'])).toEqual([at('dynamic-mid.vhd'), at('dynamic-base.vhd'), undefined]);
    expect(chain.every((c) => c.format === 'vpc' && c['virtual-size'] === 6 << 20 && c['cluster-size'] === 2 << 20 && c['dirty-flag'] === false)).toBe(true);
    expect(chain.map((c) => (c['format-specific'] as { data: { subformat: string } }).data.subformat)).toEqual(['differencing', 'differencing', 'dynamic']);
    const fixed = JSON.parse(await ok('info', '--backing-chain', '--output=json', at('fixed-top.vhd'))) as Array<Record<string, unknown>>;
    expect(fixed[2]).toMatchObject({ filename: at('fixed-base.vhd'), format: 'vpc' });
    expect(fixed[2]).not.toHaveProperty('cluster-size'); // as qemu: a fixed VHD has no blocks
    const human = await ok('info', '--backing-chain', top);
    const blocks = human.split('\n\n');
    expect(blocks.map((b) => b.split('\n')[0])).toEqual([`image: ${top}`, `image: ${at('dynamic-mid.vhd')}`, `image: ${at('dynamic-base.vhd')}`]);
    expect(blocks[0]).toContain(`\ncluster_size: 2097152\nbacking file: ${at('dynamic-mid.vhd')}\n`);
    // Without --backing-chain: one object, not an array.
    expect(JSON.parse(await ok('info', '--output=json', top))).toMatchObject({ filename: top, 'backing-filename': at('dynamic-mid.vhd') });
  });
});

describe('disklab measure', () => {
  it('counts each cluster touched by data once', () => {
    expect(unitsTouched([], 4096)).toBe(0);
    expect(unitsTouched([[0, 1], [1, 4096], [8191, 8193]], 4096)).toBe(3);
    expect(unitsTouched([[100, 200], [300, 400], [5000, 5001]], 4096)).toBe(2);
  });

  it('measures an empty qcow2 image as QEMU computes it (64 KiB clusters, 16-bit refcounts)', () => {
    // qemu-img measure -O qcow2 --size 1G: 393216 / 1074135040 (qemu 7.2).
    expect(measureQcow2(1 << 30, new Map())).toEqual({ required: 393216, 'fully-allocated': 1074135040 });
  });

  for (const seed of [1, 2, 3]) {
    it(`-O vpc predicts the size of the dynamic VHD disklab convert writes (#${seed})`, async () => {
      const rand = seededRandom(seed * 65537);
      const raw = at(`m${seed}.raw`);
      const size = (2 + Math.floor(rand() * 14)) << 20;
      // A sparse source (as qemu, a file with no holes counts as all data; see measure.ts).
      fs.writeFileSync(raw, new Uint8Array(0));
      fs.truncateSync(raw, size);
      const fd = fs.openSync(raw, 'r+');
      for (let i = 0, n = 1 + Math.floor(rand() * 5); i < n; i++) {
        const len = 1 + Math.floor(rand() * 70000);
        fs.writeSync(fd, new Uint8Array(len).fill(1 + Math.floor(rand() * 255)), 0, len, Math.floor(rand() * (size - len)));
      }
      fs.closeSync(fd);
      const m = JSON.parse(await ok('measure', '--output=json', '-O', 'vpc', raw)) as { required: number; 'fully-allocated': number };
      await ok('convert', '-O', 'vhd', '-o', 'subformat=dynamic', raw, at(`m${seed}.vhd`));
      expect(m.required).toBe(fs.statSync(at(`m${seed}.vhd`)).size);
      expect(m['fully-allocated']).toBeGreaterThanOrEqual(m.required);
      const empty = JSON.parse(await ok('measure', '--output=json', '-O', 'vpc', '--size', String(size))) as { required: number };
      await ok('create', '-f', 'vhd', '-o', 'subformat=dynamic', at(`e${seed}.vhd`), String(size));
      expect(empty.required).toBe(fs.statSync(at(`e${seed}.vhd`)).size);
    });
  }

  it('refuses what qemu-img measure refuses, in one line', async () => {
    const raw = at('m1.raw');
    const cases: Array<[string[], RegExp]> = [
      [['measure', '--size', '1M', raw], /--size N cannot be used together with a filename/],
      [['measure'], /either --size N or one filename/],
      [['measure', '-O', 'qcow2', '-o', 'bogus=1', '--size', '1M'], /unknown option 'bogus'/],
      [['measure', '-O', 'qcow2', '-o', 'cluster_size=3000', '--size', '1M'], /cluster_size/],
      [['measure', '-O', 'vhdx', '--size', '1M'], /measuring vhdx images is not supported/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.status, argv.join(' ')).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    expect(await ok('measure', '-O', 'raw', '--size', '1000')).toBe('required size: 1024\nfully allocated size: 1024\n');
  });
});
