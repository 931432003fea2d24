/**
 * A dynamic VHD as the base of a differencing chain reports the sectors it holds (allocated
 * blocks, bitmap bits), not the whole disk, while the chain reads exactly as before; and a
 * differencing layer's bytesPresent counts present sectors, not allocated blocks.
 */
import { describe, expect, it } from 'vitest';
import { DiskLayer } from '../../layered/disk-layer.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import type { PresenceRun } from '../../layered/layer.ts';
import { SparseDiskLayer } from '../../layered/sparse-disk-layer.ts';
import { readLayer } from '../../testing/layer-conformance.ts';
import { expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { seededRandom } from '../../testing/seeded-random.ts';
import { vhdDynamicBaseLayer } from './base-layer.ts';
import { createVhdDynamic } from './create-dynamic.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from './dynamic-disk.ts';
import { MemoryImageFile } from './memory-image-file.ts';
import { openVhdDynamic } from './open-dynamic.ts';
import { VhdSparseImage } from './sparse-image.ts';

const SECTORS = 400;
const BLOCK = 4096; // 8 sectors per block, so writes leave blocks partly present

type Write = readonly [lba: number, count: number];

/** Per-sector model of what a file holds after `writes` (true = written). */
function heldBy(writes: readonly Write[]): boolean[] {
  const held = new Array<boolean>(SECTORS).fill(false);
  for (const [lba, n] of writes) held.fill(true, lba, lba + n);
  return held;
}

function runsOf(held: readonly boolean[]): PresenceRun[] {
  const runs: PresenceRun[] = [];
  for (let s = 0; s < held.length; ) {
    if (!held[s]) {
      s++;
      continue;
    }
    let e = s;
    while (e < held.length && held[e]) e++;
    runs.push({ lba: s, count: e - s, state: 'data' });
    s = e;
  }
  return runs;
}

/** base.vhd (dynamic) <- mid.vhd <- top.vhd, each written at `writes[i]`; returns the files and the guest model. */
async function chain(writes: readonly [Write[], Write[], Write[]]) {
  const base = new MemoryImageFile('base.vhd');
  const mid = new MemoryImageFile('mid.vhd');
  const top = new MemoryImageFile('top.vhd');
  const model = new Uint8Array(SECTORS * 512);
  const baseImage = await createVhdDynamic(base, SECTORS * 512, { blockSize: BLOCK });
  const midImage = await createVhdDynamic(mid, SECTORS * 512, { blockSize: BLOCK, parent: { file: base, name: 'base.vhd' } });
  const topImage = await createVhdDynamic(top, SECTORS * 512, { blockSize: BLOCK, parent: { file: mid, name: 'mid.vhd' } });
  const images = [topImage, midImage, baseImage]; // child first, as `writes`
  let seed = 1;
  for (const i of [2, 1, 0]) { // base first, so the model ends with what the child shows
    for (const [lba, n] of writes[i]!) {
      const data = pattern(n * 512, seed++);
      await images[i]!.write(lba, data);
      model.set(data, lba * 512);
    }
    await images[i]!.flush();
  }
  const files = new Map([['base.vhd', base], ['mid.vhd', mid]]);
  // Reopened from their bytes, so no bitmap is cached from the writes above.
  const reopen = (f: MemoryImageFile) => new MemoryImageFile(f.name, f.bytes(), false);
  const resolveParent = async (c: string[]) => reopen(files.get(c.find((x) => files.has(x))!)!);
  const opened = await openVhdDynamic(reopen(top), { readOnly: true, resolveParent });
  if (opened.kind !== 'differencing' || opened.disk === undefined) throw new Error('expected a resolved differencing chain');
  return { opened, disk: opened.disk as LayeredDisk, model, base };
}

const WRITES: [Write[], Write[], Write[]] = [
  [[0, 3], [21, 2], [150, 9]], // top
  [[5, 12], [200, 1], [399, 1]], // mid
  [[0, 40], [61, 1], [100, 5], [250, 30], [398, 2]], // base: partial blocks, a lone sector, the last sector
];

describe('dynamic VHD base layer', () => {
  it('reports per file, in the chain, exactly the sectors each file was written at', async () => {
    const { opened, disk } = await chain(WRITES);
    expect(opened.layers.map((l) => l.constructor.name)).toEqual(['VhdDifferencingLayer', 'VhdDifferencingLayer', 'SparseDiskLayer']);
    for (const [i, writes] of WRITES.entries()) {
      const held = heldBy(writes);
      expect(await disk.presence(i, 0, SECTORS), `layer ${i}`).toEqual(runsOf(held));
      expect(opened.layers[i]!.bytesPresent(), `layer ${i} bytesPresent`).toBe(held.filter(Boolean).length * 512);
      const map = await disk.occupancyMap(i, 50);
      const expected = Array.from({ length: 50 }, (_, b) => held.slice(b * 8, b * 8 + 8).filter(Boolean).length / 8);
      expect(Array.from(map), `layer ${i} occupancy`).toEqual(expected);
    }
    const sub = await disk.presence(2, 30, 80);
    expect(sub).toEqual([{ lba: 30, count: 10, state: 'data' }, { lba: 61, count: 1, state: 'data' }, { lba: 100, count: 5, state: 'data' }]);
    await disk.close();
  });

  it('reads the chain byte for byte as before, and attributes base reads only to held sectors', async () => {
    const { disk, model, base } = await chain(WRITES);
    const buf = new Uint8Array(SECTORS * 512).fill(0xee);
    await disk.read(0, buf);
    expectSameBytes(buf, model, 'whole chain');
    // The same chain over a whole-disk base (what the lab did before) reads the same bytes.
    const layers = disk.layerInfo().map((l) => l.layer);
    const whole = new LayeredDisk([
      { layer: layers[0]! },
      { layer: layers[1]! },
      { layer: new DiskLayer(new VhdDynamicDisk(await VhdSparseImage.open(new MemoryImageFile('base.vhd', base.bytes(), false), { readOnly: true }))) },
    ]);
    const r = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const lba = Math.floor(r() * SECTORS);
      const n = 1 + Math.floor(r() * Math.min(40, SECTORS - lba));
      const a = new Uint8Array(n * 512).fill(1);
      const b = new Uint8Array(n * 512).fill(2);
      await disk.read(lba, a);
      await whole.read(lba, b);
      expectSameBytes(a, b, `read ${lba}+${n}`);
      expectSameBytes(a, model.subarray(lba * 512, (lba + n) * 512), `model ${lba}+${n}`);
    }
    disk.resetReadStats();
    await disk.read(0, new Uint8Array(SECTORS * 512));
    const top = heldBy(WRITES[0]);
    const mid = heldBy(WRITES[1]).map((h, s) => h && !top[s]);
    const baseOnly = heldBy(WRITES[2]).map((h, s) => h && !top[s] && !mid[s]);
    const count = (xs: boolean[]) => xs.filter(Boolean).length;
    const stats = disk.readStats();
    expect(stats.servedSectors).toEqual([count(top), count(mid), count(baseOnly)]);
    expect(stats.zeroFilledSectors).toBe(SECTORS - count(top) - count(mid) - count(baseOnly));
    await disk.close();
  });

  it('keeps the dynamic disk inside, for tools that look inside a DiskLayer, and owns the file', async () => {
    const { disk } = await chain(WRITES);
    const base = disk.layerInfo()[2]!.layer;
    expect(base).toBeInstanceOf(DiskLayer);
    expect(base.layerType).toBe('disk:vhd-dynamic');
    expect((base as SparseDiskLayer).disk).toBeInstanceOf(VhdDynamicDisk);
    expect((base as SparseDiskLayer).view).toBeInstanceOf(VhdDifferencingLayer);
    expect(base.readOnly).toBe(true);
    await expectDiskError(base.write(0, pattern(512, 1)), 'READ_ONLY');
    await base.write(300, pattern(512, 1), { noOverwrite: true }); // a cache fill: accepted, stores nothing
    expect((await readLayer(base, 300, 1)).marked.setCount).toBe(0);
    await disk.close();
  });

  it('fills only absent sectors on a write-no-overwrite when writable, and counts them', async () => {
    const file = new MemoryImageFile('w.vhd');
    const layer = await vhdDynamicBaseLayer(await createVhdDynamic(file, SECTORS * 512, { blockSize: BLOCK }));
    await layer.write(10, pattern(2 * 512, 1));
    await layer.write(8, pattern(8 * 512, 2), { noOverwrite: true });
    const { buf, marked } = await readLayer(layer, 8, 9);
    expect(marked.setCount).toBe(8);
    expectSameBytes(buf.subarray(2 * 512, 4 * 512), pattern(2 * 512, 1), 'kept');
    expectSameBytes(buf.subarray(0, 2 * 512), pattern(8 * 512, 2).subarray(0, 2 * 512), 'filled');
    expect(await layer.presence(0, SECTORS)).toEqual([{ lba: 8, count: 8, state: 'data' }]);
    expect(layer.bytesPresent()).toBe(8 * 512);
    await layer.close();
  });

  it('refuses a differencing image as a base', async () => {
    const base = new MemoryImageFile('b.vhd');
    await createVhdDynamic(base, SECTORS * 512, { blockSize: BLOCK });
    const child = await createVhdDynamic(new MemoryImageFile('c.vhd'), SECTORS * 512, { blockSize: BLOCK, parent: { file: base, name: 'b.vhd' } });
    await expectDiskError(vhdDynamicBaseLayer(child), 'INVALID_INPUT');
  });
});

describe('differencing VHD bytesPresent', () => {
  it('counts present sectors, not allocated blocks, right after open', async () => {
    const { opened } = await chain([[[3, 1], [77, 2]], [[9, 1]], []]);
    // One sector of an 8-sector block used to count as the whole block (4096 bytes).
    expect(opened.layers[0]!.bytesPresent()).toBe(3 * 512);
    expect(opened.layers[1]!.bytesPresent()).toBe(512);
    expect(opened.layers[2]!.bytesPresent()).toBe(0);
    expect(await opened.layers[2]!.presence(0, SECTORS)).toEqual([]);
  });

  it('stays equal to the presence count as a writable child is written', async () => {
    const { base } = await chain([[], [], [[0, 16]]]);
    const childFile = new MemoryImageFile('child.vhd');
    await createVhdDynamic(childFile, SECTORS * 512, { blockSize: BLOCK, parent: { file: base, name: 'base.vhd' } });
    const opened = await openVhdDynamic(new MemoryImageFile('child.vhd', childFile.bytes()), { resolveParent: async () => new MemoryImageFile('base.vhd', base.bytes(), false) });
    if (opened.kind !== 'differencing' || !opened.disk) throw new Error('expected a chain');
    const r = seededRandom(3);
    for (let i = 0; i < 60; i++) {
      const lba = Math.floor(r() * (SECTORS - 4));
      await opened.disk.write(lba, pattern(512 * (1 + Math.floor(r() * 4)), i));
      const held = (await opened.layer.presence(0, SECTORS)).reduce((n, run) => n + run.count, 0);
      expect(opened.layer.bytesPresent()).toBe(held * 512);
    }
    expect(opened.layers[1]!.bytesPresent()).toBe(16 * 512);
    await opened.disk.close();
  });
});
