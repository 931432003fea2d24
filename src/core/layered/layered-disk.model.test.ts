/**
 * Model-based tests: random stacks of 2-4 layers (random read caches, write-through chains,
 * chunk sizes, preloaded lower layers) driven by random read/write/unmap/flush sequences, compared
 * with flat byte arrays.
 *
 * The model keeps, per layer i, M[i]: what the sub-stack from layer i down reads (M[n] is all
 * zero). A write or unmap sets M[i] for every write-path layer; nothing else changes any M[i].
 * After each run every layer must satisfy, per sector: present => its bytes equal M[i];
 * absent => M[i] equals M[i + 1]. That covers read caches (they may only ever hold what lies
 * below them) and unmap's nextIsZero shortcuts. Presence must also agree with what was done to
 * the layer (written => data, unmapped => zero or absent, untouched => as preloaded, a cache may
 * gain data), and occupancy maps and byte counts must agree with presence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { pattern } from '../testing/disk-conformance.ts';
import { readLayer } from '../testing/layer-conformance.ts';
import { DiskLayer } from './disk-layer.ts';
import type { Layer, PresenceState } from './layer.ts';
import { LayeredDisk, type LayerConfig } from './layered-disk.ts';
import { RamLayer } from './ram-layer.ts';

const BIT: Record<PresenceState, number> = { absent: 1, zero: 2, data: 4 };

interface Range {
  readonly at: number; // scaled to the disk: lba = floor(at * sectors / 1024)
  readonly len: number;
}
type PreOp = Range & { readonly kind: 'write' | 'zero' | 'drop'; readonly seed: number };
type Op = Range & { readonly kind: 'read' | 'write' | 'unmap' | 'flush'; readonly seed: number };

interface LayerSpec {
  /** Size as a fraction (in 1/64ths) of the disk; used only below the write path, where sizes may differ. */
  readonly size: number;
  readonly chunkSectors: number;
  readonly readCache: boolean;
  readonly preload: readonly PreOp[];
}
interface StackSpec {
  readonly sectors: number;
  readonly upper: readonly LayerSpec[];
  readonly bottom: { readonly kind: 'disk' | 'ram'; readonly size: number; readonly seed: number; readonly preload: readonly PreOp[] };
  readonly writePath: number;
}

const rangeArb = fc.record({ at: fc.integer({ min: 0, max: 1023 }), len: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 300 })) });
const preOpArb: fc.Arbitrary<PreOp> = fc
  .tuple(rangeArb, fc.constantFrom('write', 'zero', 'drop' as const), fc.integer({ min: 1, max: 1e6 }))
  .map(([r, kind, seed]) => ({ ...r, kind, seed }));
const opArb: fc.Arbitrary<Op> = fc
  .tuple(rangeArb, fc.constantFrom('read', 'read', 'write', 'write', 'unmap', 'flush' as const), fc.integer({ min: 1, max: 1e6 }))
  .map(([r, kind, seed]) => ({ ...r, kind, seed }));
const sizeArb = fc.oneof(fc.constant(64), fc.integer({ min: 16, max: 128 }));
const layerArb: fc.Arbitrary<LayerSpec> = fc.record({
  size: sizeArb,
  chunkSectors: fc.constantFrom(1, 2, 8, 32),
  readCache: fc.boolean(),
  preload: fc.array(preOpArb, { maxLength: 4 }),
});
const stackArb: fc.Arbitrary<StackSpec> = fc.record({
  sectors: fc.integer({ min: 64, max: 256 }),
  upper: fc.array(layerArb, { minLength: 1, maxLength: 3 }),
  bottom: fc.record({ kind: fc.constantFrom('disk', 'ram' as const), size: sizeArb, seed: fc.integer({ min: 1, max: 1e6 }), preload: fc.array(preOpArb, { maxLength: 4 }) }),
  writePath: fc.integer({ min: 1, max: 4 }),
});

function clip(r: Range, sectors: number): [number, number] {
  const lba = Math.floor((r.at * sectors) / 1024);
  return [lba, Math.min(r.len, sectors - lba)];
}

async function preload(layer: Layer, ops: readonly PreOp[], sectors: number, ss: number): Promise<void> {
  for (const op of ops) {
    const [lba, n] = clip(op, sectors);
    if (op.kind === 'write') await layer.write(lba, pattern(n * ss, op.seed));
    else await layer.unmap(lba, n, op.kind === 'drop');
  }
}

/** Builds the stack and its starting model from what the layers actually hold. */
async function build(spec: StackSpec, ss: number) {
  const n = spec.upper.length + 1;
  const writePath = Math.min(spec.writePath, n);
  // Write-path layers must match the top's size; the others may be smaller or larger.
  const sizeOf = (i: number, size: number) => (i < writePath ? spec.sectors : Math.floor((size * spec.sectors) / 64));
  const layers: Layer[] = [];
  for (const [i, l] of spec.upper.entries()) {
    const sectors = sizeOf(i, l.size);
    const layer = new RamLayer({ sectors, sectorSize: ss, chunkBytes: l.chunkSectors * ss });
    await preload(layer, l.preload, sectors, ss);
    layers.push(layer);
  }
  const bottomSectors = sizeOf(n - 1, spec.bottom.size);
  if (spec.bottom.kind === 'disk') {
    const disk = new RamDisk({ sectors: bottomSectors, sectorSize: ss, chunkBytes: 4 * ss });
    await disk.write(0, pattern(bottomSectors * ss, spec.bottom.seed));
    for (const op of spec.bottom.preload) if (op.kind !== 'write') await disk.unmap(...clip(op, bottomSectors));
    layers.push(new DiskLayer(disk));
  } else {
    const layer = new RamLayer({ sectors: bottomSectors, sectorSize: ss, chunkBytes: 2 * ss });
    await layer.write(0, pattern(bottomSectors * ss, spec.bottom.seed));
    await preload(layer, spec.bottom.preload, bottomSectors, ss);
    layers.push(layer);
  }
  const visible: number[] = [];
  for (const [i, layer] of layers.entries()) visible.push(Math.min(i === 0 ? spec.sectors : visible[i - 1]!, layer.sectorCount()));
  const sectors = spec.sectors;
  const configs: LayerConfig[] = layers.map((layer, i) => ({
    layer,
    readCache: i < n - 1 && spec.upper[i]!.readCache,
    writeThrough: i < writePath - 1,
  }));
  const model: Uint8Array[] = Array.from({ length: n + 1 }, () => new Uint8Array(sectors * ss));
  const allowed: Uint8Array[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const size = layers[i]!.sectorCount();
    const { buf, marked } = await readLayer(layers[i]!, 0, size);
    const states = new Uint8Array(size);
    const runs = await layers[i]!.presence(0, size);
    states.fill(BIT.absent);
    for (const r of runs) states.fill(BIT[r.state], r.lba, r.lba + r.count);
    // Beyond a layer's visible size the sub-stack from it down reads zero: the model stays zero there.
    for (let s = 0; s < visible[i]!; s++) {
      const src = marked.has(s) ? buf : model[i + 1]!;
      model[i]!.set(src.subarray(s * ss, (s + 1) * ss), s * ss);
    }
    allowed[i] = states;
  }
  const disk = new LayeredDisk(configs);
  expect(disk.layerInfo().map((l) => l.visibleSectors)).toEqual(visible);
  return { disk, layers, configs, model, allowed, writePath, visible };
}

function sameSector(a: Uint8Array, b: Uint8Array, s: number, ss: number): boolean {
  for (let k = s * ss; k < (s + 1) * ss; k++) if (a[k] !== b[k]) return false;
  return true;
}

type Built = Awaited<ReturnType<typeof build>>;

async function checkLayers(t: Built, sectors: number, ss: number): Promise<void> {
  const { layers, model, allowed } = t;
  for (const [i, layer] of layers.entries()) {
    const size = layer.sectorCount();
    const { buf, marked } = await readLayer(layer, 0, size);
    const runs = await layer.presence(0, size);
    const states = new Array<PresenceState>(size).fill('absent');
    for (const r of runs) states.fill(r.state, r.lba, r.lba + r.count);
    let data = 0;
    for (let s = 0; s < size; s++) {
      const state = states[s]!;
      if (state === 'data') data++;
      if (marked.has(s) !== (state !== 'absent')) throw new Error(`layer ${i} sector ${s}: read marker disagrees with presence ${state}`);
      if ((allowed[i]![s]! & BIT[state]) === 0) throw new Error(`layer ${i} sector ${s}: state ${state} not allowed (mask ${allowed[i]![s]})`);
      if (s >= t.visible[i]!) continue; // hidden from the disk: anything goes
      if (state !== 'absent' && !sameSector(buf, model[i]!, s, ss)) throw new Error(`layer ${i} sector ${s}: holds ${state} bytes that differ from the model`);
      if (state === 'absent' && !sameSector(model[i]!, model[i + 1]!, s, ss)) throw new Error(`layer ${i} sector ${s}: absent, but the stack below reads differently`);
    }
    if (layer.bytesPresent() !== data * ss) throw new Error(`layer ${i}: bytesPresent ${layer.bytesPresent()} but ${data} data sectors`);
    const map = await t.disk.occupancyMap(i, 5);
    for (let b = 0; b < 5; b++) {
      const [start, end] = [Math.floor((b * sectors) / 5), Math.floor(((b + 1) * sectors) / 5)];
      const present = states.slice(start, Math.min(end, t.visible[i]!)).filter((x) => x !== 'absent').length;
      if (map[b] !== present / (end - start)) throw new Error(`layer ${i} bucket ${b}: occupancy ${map[b]}, expected ${present / (end - start)}`);
    }
  }
}

/** Applies a completed write or unmap to the model and the allowed presence states. */
function applyToModel(t: Built, op: Op, lba: number, n: number, ss: number): void {
  const data = op.kind === 'write' ? pattern(n * ss, op.seed) : new Uint8Array(n * ss);
  for (let i = 0; i < t.writePath; i++) {
    t.model[i]!.set(data, lba * ss);
    // A DiskLayer holds every sector as data, unmapped or not; the model check still makes it read zero.
    const unmapped = t.layers[i] instanceof DiskLayer ? BIT.data : BIT.zero | BIT.absent;
    t.allowed[i]!.fill(op.kind === 'write' ? BIT.data : unmapped, lba, lba + n);
  }
}

/** A read may fill read caches: wherever one may be absent, it may now hold data. */
function allowCacheFills(t: Built, lba: number, n: number): void {
  for (const [i, c] of t.configs.entries()) {
    if (!c.readCache) continue;
    for (let s = lba; s < Math.min(lba + n, t.visible[i]!); s++) if (t.allowed[i]![s]! & BIT.absent) t.allowed[i]![s]! |= BIT.data;
  }
}

async function runSequential(spec: StackSpec, ops: readonly Op[], ss: number): Promise<void> {
  const t = await build(spec, ss);
  let readSectors = 0;
  for (const op of ops) {
    const [lba, n] = clip(op, spec.sectors);
    if (op.kind === 'flush') await t.disk.flush();
    else if (op.kind === 'read') {
      const buf = new Uint8Array(n * ss);
      await t.disk.read(lba, buf);
      for (let s = 0; s < n; s++) {
        if (!sameSector(buf.subarray(s * ss), t.model[0]!.subarray((lba + s) * ss), 0, ss)) throw new Error(`read of sector ${lba + s} differs from the model`);
      }
      if (n > 0) readSectors += n;
      allowCacheFills(t, lba, n);
    } else {
      if (op.kind === 'write') await t.disk.write(lba, pattern(n * ss, op.seed));
      else await t.disk.unmap(lba, n);
      applyToModel(t, op, lba, n, ss);
    }
  }
  await checkLayers(t, spec.sectors, ss);
  const stats = t.disk.readStats();
  if (stats.servedSectors.reduce((a, b) => a + b, 0) + stats.zeroFilledSectors !== readSectors) throw new Error('read attribution does not add up');
}

/** Runs ops concurrently; writes/unmaps are made pairwise disjoint, reads may overlap anything. */
async function runConcurrent(spec: StackSpec, ops: readonly Op[], ss: number): Promise<void> {
  const t = await build(spec, ss);
  const claimed = new Uint8Array(spec.sectors);
  const before = t.model[0]!.slice();
  const mutations: Array<[Op, number, number]> = [];
  const reads: Array<[number, number, Uint8Array]> = [];
  const running: Promise<void>[] = [];
  for (const op of ops) {
    const [lba, n] = clip(op, spec.sectors);
    if (op.kind === 'read') {
      const buf = new Uint8Array(n * ss);
      reads.push([lba, n, buf]);
      running.push(t.disk.read(lba, buf));
    } else if (op.kind === 'write' || op.kind === 'unmap') {
      if (claimed.subarray(lba, lba + n).some((x) => x)) continue;
      claimed.fill(1, lba, lba + n);
      mutations.push([op, lba, n]);
      running.push(op.kind === 'write' ? t.disk.write(lba, pattern(n * ss, op.seed)) : t.disk.unmap(lba, n));
    } else running.push(t.disk.flush());
  }
  await Promise.all(running);
  for (const [op, lba, n] of mutations) applyToModel(t, op, lba, n, ss);
  for (const [lba, n] of reads) allowCacheFills(t, lba, n);
  for (const [lba, n, buf] of reads) {
    for (let s = 0; s < n; s++) {
      const got = buf.subarray(s * ss);
      if (!sameSector(got, before.subarray((lba + s) * ss), 0, ss) && !sameSector(got, t.model[0]!.subarray((lba + s) * ss), 0, ss)) {
        throw new Error(`concurrent read of sector ${lba + s} saw neither the old nor the new data`);
      }
    }
  }
  await checkLayers(t, spec.sectors, ss);
}

describe('LayeredDisk against a flat model', () => {
  it('agrees on random op sequences over random stacks (512-byte sectors)', async () => {
    await fc.assert(fc.asyncProperty(stackArb, fc.array(opArb, { maxLength: 30 }), (spec, ops) => runSequential(spec, ops, 512)), { numRuns: 1500 });
  });

  it('agrees on random op sequences over random stacks (4096-byte sectors)', async () => {
    await fc.assert(fc.asyncProperty(stackArb, fc.array(opArb, { maxLength: 20 }), (spec, ops) => runSequential(spec, ops, 4096)), { numRuns: 150 });
  });

  it('keeps caches and layers consistent under concurrent reads, writes and unmaps', async () => {
    await fc.assert(fc.asyncProperty(stackArb, fc.array(opArb, { maxLength: 24 }), (spec, ops) => runConcurrent(spec, ops, 512)), { numRuns: 600 });
  });

  it('the model check can fail: a cache holding data unlike the layers below is caught', async () => {
    const spec: StackSpec = {
      sectors: 64,
      upper: [{ size: 64, chunkSectors: 8, readCache: true, preload: [] }],
      bottom: { kind: 'disk', size: 64, seed: 3, preload: [] },
      writePath: 1,
    };
    const t = await build(spec, 512);
    await t.disk.read(0, new Uint8Array(8 * 512));
    allowCacheFills(t, 0, 8);
    await checkLayers(t, 64, 512);
    await t.layers[0]!.write(2, pattern(512, 99)); // behind the stack's back
    await expect(checkLayers(t, 64, 512)).rejects.toThrow(/differ from the model/);
  });
});
