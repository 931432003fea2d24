/**
 * The shared conformance suite for Layers (layered/layer.ts), run at sector sizes 512 and 4096:
 * ranges, straddling the end, zero-length requests, the largest representable sector,
 * read-only, presence states, write-no-overwrite, nextIsZero, and occupancy reporting.
 *
 * Layers come in two kinds, and the suite checks each against what its kind promises:
 * - `sparse`: starts with every sector absent; writes make data, unmap makes zero (or absent
 *   when nextIsZero) — RamLayer, and later OPFS and format layers;
 * - `full`: every sector is always present as data — DiskLayer.
 * Everything is called on the layer directly: layers range-check themselves.
 */
import { describe, expect, it } from 'vitest';
import { maxSectorsFor } from '../disk/disk.ts';
import type { Layer, PresenceRun } from '../layered/layer.ts';
import { SectorBitmap } from '../layered/sector-bitmap.ts';
import { expectDiskError, expectSameBytes, pattern } from './disk-conformance.ts';

export interface LayerConformanceOptions {
  readonly sectorSize: number;
  readonly sectors: number;
  readonly readOnly: boolean;
}

export interface LayerConformanceTarget {
  readonly name: string;
  readonly kind: 'sparse' | 'full';
  /** A fresh layer with these parameters (a `full` one reading as zeroes), honouring `readOnly`. */
  make(options: LayerConformanceOptions): Promise<Layer>;
  readonly sectorSizes?: readonly number[];
  readonly maxSectors?: (sectorSize: number) => number;
}

const UNTOUCHED = 0xee;
const SECTORS = 300;

/** Reads [lba, lba + sectors) from a layer into a buffer pre-filled with 0xee, returning it and what was marked. */
export async function readLayer(layer: Layer, lba: number, sectors: number): Promise<{ buf: Uint8Array; marked: SectorBitmap }> {
  const buf = new Uint8Array(sectors * layer.sectorSize).fill(UNTOUCHED);
  const marked = new SectorBitmap(lba, sectors);
  await layer.read(lba, buf, marked);
  return { buf, marked };
}

/** Per-sector presence as the layer's own read reports it, with zero-state told apart using `presence`. */
function runsToStates(runs: readonly PresenceRun[], lba: number, sectors: number): Array<'absent' | 'zero' | 'data'> {
  const states = new Array<'absent' | 'zero' | 'data'>(sectors).fill('absent');
  for (const r of runs) for (let s = r.lba; s < r.lba + r.count; s++) states[s - lba] = r.state;
  return states;
}

/** Occupancy computed the slow, obvious way: bucket b is [floor(b*count/buckets), floor((b+1)*count/buckets)). */
function bruteOccupancy(present: readonly boolean[], buckets: number): number[] {
  const count = present.length;
  return Array.from({ length: buckets }, (_, b) => {
    const start = Math.floor((b * count) / buckets);
    const end = Math.floor(((b + 1) * count) / buckets);
    let n = 0;
    for (let s = start; s < end; s++) if (present[s]) n++;
    return end === start ? 0 : n / (end - start);
  });
}

function expectWellFormedRuns(runs: readonly PresenceRun[], lba: number, count: number): void {
  let prev: PresenceRun | undefined;
  for (const r of runs) {
    expect(r.count, 'runs are non-empty').toBeGreaterThan(0);
    expect(r.lba, 'runs are clipped to the range').toBeGreaterThanOrEqual(lba);
    expect(r.lba + r.count, 'runs are clipped to the range').toBeLessThanOrEqual(lba + count);
    if (prev) {
      expect(r.lba, 'runs are sorted and disjoint').toBeGreaterThanOrEqual(prev.lba + prev.count);
      if (r.lba === prev.lba + prev.count) expect(r.state, 'touching runs of one state are merged').not.toBe(prev.state);
    }
    prev = r;
  }
}

export function describeLayerConformance(target: LayerConformanceTarget): void {
  const sparse = target.kind === 'sparse';
  for (const sectorSize of target.sectorSizes ?? [512, 4096]) {
    describe(`${target.name} conforms to the Layer contract (sector size ${sectorSize})`, () => {
      const make = (sectors = SECTORS, readOnly = false) => target.make({ sectorSize, sectors, readOnly });
      const zero = (n: number) => new Uint8Array(n * sectorSize);
      const untouched = (n: number) => new Uint8Array(n * sectorSize).fill(UNTOUCHED);
      const slice = (buf: Uint8Array, from: number, to: number) => buf.subarray(from * sectorSize, to * sectorSize);

      /** Checks read markers, zero-state contents, presence runs, bytesPresent and maps against each other. */
      async function expectConsistent(layer: Layer): Promise<Array<'absent' | 'zero' | 'data'>> {
        const n = layer.sectorCount();
        const { buf, marked } = await readLayer(layer, 0, n);
        const runs = await layer.presence(0, n);
        expectWellFormedRuns(runs, 0, n);
        const states = runsToStates(runs, 0, n);
        for (let s = 0; s < n; s++) {
          expect(marked.has(s), `sector ${s}: read marks exactly the present sectors`).toBe(states[s] !== 'absent');
          if (states[s] === 'zero') expectSameBytes(slice(buf, s, s + 1), zero(1), `zero-state sector ${s}`);
          if (states[s] === 'absent') expectSameBytes(slice(buf, s, s + 1), untouched(1), `absent sector ${s} is left untouched`);
        }
        expect(layer.bytesPresent()).toBe(states.filter((x) => x === 'data').length * sectorSize);
        const present = states.map((x) => x !== 'absent');
        for (const buckets of [1, 7, 64, n, n + 13]) {
          expect(Array.from(await layer.occupancyMap(buckets)), `${buckets} buckets`).toEqual(bruteOccupancy(present, buckets));
        }
        expect(Array.from(await layer.occupancyMap(10, 13, 250))).toEqual(bruteOccupancy(present.slice(13, 263), 10));
        const sub = await layer.presence(13, 250);
        expectWellFormedRuns(sub, 13, 250);
        expect(runsToStates(sub, 13, 250)).toEqual(states.slice(13, 263));
        return states;
      }

      it('reports valid metadata and the size it was made with', async () => {
        const layer = await make();
        expect(layer.sectorSize).toBe(sectorSize);
        expect(layer.sectorCount()).toBe(SECTORS);
        expect(layer.readOnly).toBe(false);
        expect(typeof layer.layerType).toBe('string');
        expect(layer.layerType.length).toBeGreaterThan(0);
        expect(layer.physicalSectorSize % sectorSize).toBe(0);
        expect(['zeroes', 'unspecified', 'ignored']).toContain(layer.unmapBehavior);
        expect(Number.isSafeInteger(layer.optimalUnmapSectors) && layer.optimalUnmapSectors >= 1).toBe(true);
        await layer.close();
      });

      it(sparse ? 'starts with every sector absent' : 'has every sector present as data, reading zero', async () => {
        const layer = await make();
        const states = await expectConsistent(layer);
        expect(new Set(states)).toEqual(new Set([sparse ? 'absent' : 'data']));
        if (!sparse) expectSameBytes((await readLayer(layer, 0, SECTORS)).buf, zero(SECTORS));
        await layer.close();
      });

      it('serves what was written, marks exactly what it holds and leaves the rest of the buffer alone', async () => {
        const layer = await make();
        const writes: [number, number][] = [[0, 1], [SECTORS - 1, 1], [5, 37], [127, 5], [255, 2], [41, 90]];
        const model = zero(SECTORS);
        const held = new Array<boolean>(SECTORS).fill(!sparse);
        for (const [i, [lba, n]] of writes.entries()) {
          await layer.write(lba, pattern(n * sectorSize, i + 1));
          model.set(pattern(n * sectorSize, i + 1), lba * sectorSize);
          held.fill(true, lba, lba + n);
        }
        const { buf, marked } = await readLayer(layer, 0, SECTORS);
        for (let s = 0; s < SECTORS; s++) {
          expect(marked.has(s), `sector ${s} marked`).toBe(held[s]);
          expectSameBytes(slice(buf, s, s + 1), held[s] ? slice(model, s, s + 1) : untouched(1), `sector ${s}`);
        }
        const states = await expectConsistent(layer);
        expect(states.map((x) => x === 'data')).toEqual(held);
        const part = await readLayer(layer, 40, 3);
        expect(part.marked.setCount).toBe(3);
        expectSameBytes(part.buf, slice(model, 40, 43));
        await layer.close();
      });

      it('neither keeps nor modifies the caller’s buffers', async () => {
        const layer = await make();
        const data = pattern(4 * sectorSize, 9);
        const copy = data.slice();
        await layer.write(8, data, { fua: true });
        expectSameBytes(data, copy);
        data.fill(0);
        const first = await readLayer(layer, 8, 4);
        first.buf.fill(1);
        expectSameBytes((await readLayer(layer, 8, 4)).buf, copy);
        await layer.close();
      });

      it('unmap with nextIsZero false leaves the sectors reading zero (zero state), as unmapBehavior says', async () => {
        const layer = await make();
        const data = pattern(20 * sectorSize, 11);
        await layer.write(10, data);
        await layer.unmap(12, 5, false);
        await layer.unmap(100, 10, false); // never written
        const { buf, marked } = await readLayer(layer, 0, SECTORS);
        expectSameBytes(slice(buf, 10, 12), data.subarray(0, 2 * sectorSize));
        expectSameBytes(slice(buf, 17, 30), data.subarray(7 * sectorSize));
        if (sparse || layer.unmapBehavior === 'zeroes') {
          for (const s of [12, 16, 100, 109]) expect(marked.has(s), `sector ${s} is held after unmap`).toBe(true);
          expectSameBytes(slice(buf, 12, 17), zero(5));
          expectSameBytes(slice(buf, 100, 110), zero(10));
        }
        if (layer.unmapBehavior === 'ignored') expectSameBytes(slice(buf, 12, 17), data.subarray(2 * sectorSize, 7 * sectorSize));
        const states = await expectConsistent(layer);
        if (sparse) {
          expect(states.slice(10, 30)).toEqual([...Array(2).fill('data'), ...Array(5).fill('zero'), ...Array(13).fill('data')]);
          expect(states.slice(100, 110)).toEqual(Array(10).fill('zero'));
          expect(states[110]).toBe('absent');
        }
        await layer.close();
      });

      it('unmap with nextIsZero true never leaves data: sectors become absent or read zero', async () => {
        const layer = await make();
        const data = pattern(40 * sectorSize, 12);
        await layer.write(0, data);
        await layer.unmap(30, 5, false);
        const before = layer.bytesPresent();
        await layer.unmap(3, 34, true); // over data, zero-state and data again
        await layer.unmap(200, 50, true); // over nothing
        const states = await expectConsistent(layer);
        const { buf } = await readLayer(layer, 0, 40);
        expectSameBytes(slice(buf, 0, 3), data.subarray(0, 3 * sectorSize));
        expectSameBytes(slice(buf, 37, 40), data.subarray(37 * sectorSize));
        if (sparse) {
          for (let s = 3; s < 37; s++) expect(states[s], `sector ${s}`).not.toBe('data');
          for (let s = 200; s < 250; s++) expect(states[s], `sector ${s}`).toBe('absent');
          expect(layer.bytesPresent()).toBeLessThan(before);
        } else if (layer.unmapBehavior === 'zeroes') {
          expectSameBytes(slice(buf, 3, 37), zero(34));
        }
        await layer.close();
      });

      it('write-no-overwrite fills only absent sectors, keeping data and zero-state sectors', async () => {
        const layer = await make();
        const a = pattern(10 * sectorSize, 21);
        await layer.write(20, a);
        await layer.unmap(24, 2, false);
        const reference = (await readLayer(layer, 0, SECTORS)).buf;
        const b = pattern(20 * sectorSize, 22);
        await layer.write(15, b, { noOverwrite: true });
        const { buf, marked } = await readLayer(layer, 0, SECTORS);
        if (sparse) {
          for (let s = 15; s < 35; s++) expect(marked.has(s), `sector ${s}`).toBe(true);
          expectSameBytes(slice(buf, 15, 20), b.subarray(0, 5 * sectorSize), 'absent sectors before');
          expectSameBytes(slice(buf, 20, 24), a.subarray(0, 4 * sectorSize), 'data kept');
          expectSameBytes(slice(buf, 24, 26), zero(2), 'zero state kept');
          expectSameBytes(slice(buf, 26, 30), a.subarray(6 * sectorSize), 'data kept');
          expectSameBytes(slice(buf, 30, 35), b.subarray(15 * sectorSize), 'absent sectors after');
          expectSameBytes(slice(buf, 35, 40), untouched(5), 'beyond the write');
        } else {
          expectSameBytes(buf, reference, 'a full layer has nothing absent to fill');
        }
        await expectConsistent(layer);
        await layer.close();
      });

      it('rejects requests at or past the end with OUT_OF_RANGE, changing nothing', async () => {
        const layer = await make();
        const last = pattern(sectorSize, 3);
        await layer.write(SECTORS - 1, last);
        const marker = new SectorBitmap(0, 0);
        await expectDiskError(layer.read(SECTORS, zero(1), marker), 'OUT_OF_RANGE');
        await expectDiskError(layer.read(SECTORS - 1, zero(2), marker), 'OUT_OF_RANGE');
        await expectDiskError(layer.read(Number.MAX_SAFE_INTEGER, zero(1), marker), 'OUT_OF_RANGE');
        await expectDiskError(layer.write(SECTORS, pattern(sectorSize, 4)), 'OUT_OF_RANGE');
        await expectDiskError(layer.write(SECTORS - 1, pattern(2 * sectorSize, 5)), 'OUT_OF_RANGE');
        await expectDiskError(layer.write(SECTORS - 1, pattern(2 * sectorSize, 5), { noOverwrite: true }), 'OUT_OF_RANGE');
        await expectDiskError(layer.unmap(SECTORS - 1, 2, false), 'OUT_OF_RANGE');
        await expectDiskError(layer.unmap(SECTORS - 1, 2, true), 'OUT_OF_RANGE');
        await expectDiskError(layer.presence(SECTORS - 1, 2), 'OUT_OF_RANGE');
        await expectDiskError(layer.occupancyMap(4, SECTORS - 1, 2), 'OUT_OF_RANGE');
        await expectDiskError(layer.occupancyMap(0), 'INVALID_INPUT');
        await expectDiskError(layer.occupancyMap(1.5), 'INVALID_INPUT');
        expectSameBytes((await readLayer(layer, SECTORS - 1, 1)).buf, last);
        expectSameBytes((await readLayer(layer, SECTORS - 2, 1)).buf, sparse ? untouched(1) : zero(1));
        await layer.close();
      });

      it('treats zero-length requests up to the end as no-ops, and past it as out of range', async () => {
        const layer = await make();
        const empty = new Uint8Array(0);
        const marker = new SectorBitmap(SECTORS, 0);
        await layer.read(SECTORS, empty, marker);
        expect(marker.setCount).toBe(0);
        await layer.write(SECTORS, empty);
        await layer.write(0, empty, { noOverwrite: true });
        await layer.unmap(SECTORS, 0, false);
        await layer.unmap(0, 0, true);
        expect(await layer.presence(SECTORS, 0)).toEqual([]);
        await expectDiskError(layer.read(SECTORS + 1, empty, marker), 'OUT_OF_RANGE');
        await expectDiskError(layer.write(SECTORS + 1, empty), 'OUT_OF_RANGE');
        await expectDiskError(layer.unmap(SECTORS + 1, 0, false), 'OUT_OF_RANGE');
        await expectConsistent(layer);
        await layer.close();
      });

      it('refuses writes, unmaps and resizes on a read-only layer with READ_ONLY, but accepts cache fills', async () => {
        const layer = await make(SECTORS, true);
        expect(layer.readOnly).toBe(true);
        const before = (await readLayer(layer, 0, SECTORS)).buf;
        await expectDiskError(layer.write(0, pattern(sectorSize, 1)), 'READ_ONLY');
        await expectDiskError(layer.unmap(0, 1, false), 'READ_ONLY');
        await expectDiskError(layer.unmap(0, 1, true), 'READ_ONLY');
        if (layer.resize) await expectDiskError(layer.resize(SECTORS * 2), 'READ_ONLY');
        expectSameBytes((await readLayer(layer, 0, SECTORS)).buf, before);
        const fill = pattern(3 * sectorSize, 2);
        await layer.write(7, fill, { noOverwrite: true });
        const after = await readLayer(layer, 7, 3);
        expectSameBytes(after.buf, sparse ? fill : zero(3));
        await layer.flush();
        await layer.close();
      });

      it('reaches the largest representable sector, and reports occupancy there cheaply', async () => {
        const max = target.maxSectors?.(sectorSize) ?? maxSectorsFor(sectorSize);
        const layer = await make(max);
        expect(layer.sectorCount()).toBe(max);
        const data = pattern(sectorSize, 77);
        await layer.write(max - 1, data);
        expectSameBytes((await readLayer(layer, max - 1, 1)).buf, data);
        const near = await readLayer(layer, max - 2, 1);
        expectSameBytes(near.buf, sparse ? untouched(1) : zero(1));
        expect(await layer.presence(max - 2, 2)).toEqual(sparse ? [{ lba: max - 1, count: 1, state: 'data' }] : [{ lba: max - 2, count: 2, state: 'data' }]);
        const map = await layer.occupancyMap(1000);
        expect(map[999]).toBeGreaterThan(0);
        if (sparse) {
          expect(map[999]).toBeLessThan(1e-6);
          expect(map.slice(0, 999).every((x) => x === 0)).toBe(true);
          expect(layer.bytesPresent()).toBe(sectorSize);
          // Unmapping nearly everything over a non-zero lower layer must stay cheap too.
          await layer.unmap(0, max - 1, false);
          expect(await layer.presence(0, max)).toEqual([
            { lba: 0, count: max - 1, state: 'zero' },
            { lba: max - 1, count: 1, state: 'data' },
          ]);
          expect(Array.from(await layer.occupancyMap(3))).toEqual([1, 1, 1]);
        } else {
          expect(map.every((x) => x === 1)).toBe(true);
          // A whole-disk layer forwards unmap to its disk, which must not walk 2^53 bytes either.
          await layer.unmap(0, max - 1, false);
          expectSameBytes((await readLayer(layer, max - 1, 1)).buf, data);
        }
        await expectDiskError(layer.read(max, zero(1), new SectorBitmap(max, 1)), 'OUT_OF_RANGE');
        await layer.close();
      });

      it('reports occupancy that agrees with reads after a mix of writes and unmaps', async () => {
        const layer = await make();
        let seed = 1;
        const ops: Array<[number, number, 'w' | 'z' | 'a' | 'n']> = [
          [3, 60, 'w'], [50, 20, 'z'], [58, 3, 'n'], [120, 1, 'w'], [121, 90, 'n'],
          [140, 40, 'z'], [150, 5, 'w'], [0, 2, 'a'], [280, 20, 'w'], [285, 5, 'a'], [60, 3, 'n'],
        ];
        for (const [lba, n, op] of ops) {
          if (op === 'w') await layer.write(lba, pattern(n * sectorSize, seed++));
          if (op === 'n') await layer.write(lba, pattern(n * sectorSize, seed++), { noOverwrite: true });
          if (op === 'z') await layer.unmap(lba, n, false);
          if (op === 'a') await layer.unmap(lba, n, true);
        }
        await expectConsistent(layer);
        await layer.close();
      });

      it('lands concurrent writes to different places, and flushes', async () => {
        const layer = await make();
        await Promise.all(Array.from({ length: 16 }, (_, i) => layer.write(i * 17, pattern(3 * sectorSize, 100 + i))));
        await layer.flush();
        const all = await Promise.all(Array.from({ length: 16 }, (_, i) => readLayer(layer, i * 17, 3)));
        all.forEach((got, i) => expectSameBytes(got.buf, pattern(3 * sectorSize, 100 + i)));
        await layer.close();
      });

      it('after resize, exposes new sectors as its kind says and forgets what was cut off', async () => {
        const layer = await make();
        if (!layer.resize) {
          expect(layer.resize).toBeUndefined();
          return;
        }
        await layer.write(SECTORS - 1, pattern(sectorSize, 5));
        await layer.resize(SECTORS + 50);
        expect(layer.sectorCount()).toBe(SECTORS + 50);
        expectSameBytes((await readLayer(layer, SECTORS - 1, 1)).buf, pattern(sectorSize, 5));
        const grown = await readLayer(layer, SECTORS, 50);
        expect(grown.marked.setCount).toBe(sparse ? 0 : 50);
        expectSameBytes(grown.buf, sparse ? untouched(50) : zero(50));
        await layer.resize(SECTORS - 10);
        await expectDiskError(layer.read(SECTORS - 10, zero(1), new SectorBitmap(SECTORS - 10, 1)), 'OUT_OF_RANGE');
        await layer.resize(SECTORS);
        const back = await readLayer(layer, SECTORS - 10, 10);
        expect(back.marked.setCount).toBe(sparse ? 0 : 10);
        expectSameBytes(back.buf, sparse ? untouched(10) : zero(10));
        await expectConsistent(layer);
        await layer.close();
      });
    });
  }
}
