import { describe, expect, it } from 'vitest';
import { isDiskError } from '../disk/errors.ts';
import { CrashPlan, CrashSimSyncFile } from '../testing/crash-sim-sync-file.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { describeLayerConformance, readLayer } from '../testing/layer-conformance.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { PersistentLayer, type PersistentLayerFiles } from './persistent-layer.ts';

function memoryFiles(): { data: CrashSimSyncFile; meta: CrashSimSyncFile } {
  return { data: new CrashSimSyncFile(), meta: new CrashSimSyncFile() };
}

describeLayerConformance({
  name: 'PersistentLayer (8 KiB chunks)',
  kind: 'sparse',
  make: async ({ sectorSize, sectors, readOnly }) => PersistentLayer.create(memoryFiles(), { sectorSize, sectors, chunkBytes: 8192 }, { readOnly }),
});

describeLayerConformance({
  name: 'PersistentLayer (one-sector chunks)',
  kind: 'sparse',
  sectorSizes: [512],
  make: async ({ sectorSize, sectors, readOnly }) => PersistentLayer.create(memoryFiles(), { sectorSize, sectors, chunkBytes: sectorSize }, { readOnly }),
});

describeLayerConformance({
  name: 'PersistentLayer (flushed and reopened)',
  kind: 'sparse',
  sectorSizes: [4096],
  make: async ({ sectorSize, sectors, readOnly }) => {
    const files = memoryFiles();
    await PersistentLayer.create(files, { sectorSize, sectors, chunkBytes: 16384 }).flush();
    return PersistentLayer.open(files, { readOnly });
  },
});

type State = 'absent' | 'zero' | 'data';
interface Model {
  states: State[];
  bytes: (Uint8Array | undefined)[];
  sectors: number;
}

const SS = 512;
const cloneModel = (m: Model): Model => ({ states: m.states.slice(), bytes: m.bytes.slice(), sectors: m.sectors });

/** Checks a reopened layer against a flushed model, allowing later writes' bytes in sectors that held data. */
async function matches(layer: PersistentLayer, m: Model, later: Map<number, Uint8Array[]>): Promise<string | undefined> {
  if (layer.sectorCount() !== m.sectors) return `size ${layer.sectorCount()} != ${m.sectors}`;
  const runs = await layer.presence(0, m.sectors);
  const states = new Array<State>(m.sectors).fill('absent');
  for (const r of runs) states.fill(r.state, r.lba, r.lba + r.count);
  for (let s = 0; s < m.sectors; s++) if (states[s] !== m.states[s]) return `sector ${s} is ${states[s]}, flushed as ${m.states[s]}`;
  const { buf } = await readLayer(layer, 0, m.sectors);
  for (let s = 0; s < m.sectors; s++) {
    const got = buf.subarray(s * SS, (s + 1) * SS);
    if (m.states[s] === 'zero' && got.some((b) => b !== 0)) return `zero sector ${s} reads non-zero`;
    if (m.states[s] !== 'data') continue;
    const options = [m.bytes[s]!, ...(later.get(s) ?? [])];
    for (let i = 0; i < SS; i++) if (!options.some((o) => o[i] === got[i])) return `sector ${s} byte ${i} is from no write`;
  }
  return undefined;
}

describe('PersistentLayer crash consistency', () => {
  it('after a crash at any point, reopens to a flushed state: nothing flushed lost, nothing torn', async () => {
    const iterations = 300;
    let crashesMidFlush = 0;
    for (let iter = 0; iter < iterations; iter++) {
      const random = seededRandom(1000 + iter);
      const sectors = 64 + Math.floor(random() * 200);
      const files = memoryFiles();
      let layer = PersistentLayer.create(files, { sectors, chunkBytes: 4096 });
      const plan = new CrashPlan(5 + Math.floor(random() * 120));
      files.data.plan = plan;
      files.meta.plan = plan;
      const current: Model = { states: new Array<State>(sectors).fill('absent'), bytes: new Array(sectors).fill(undefined), sectors };
      let flushed = cloneModel(current);
      let inProgress: Model | undefined;
      const later = new Map<number, Uint8Array[]>();
      let seed = iter * 1000;
      try {
        for (let op = 0; op < 60; op++) {
          const r = random();
          const lba = Math.floor(random() * current.sectors);
          const n = Math.min(current.sectors - lba, 1 + Math.floor(random() * 24));
          if (r < 0.5) {
            const data = pattern(n * SS, ++seed);
            const noOverwrite = random() < 0.15;
            for (let s = lba; s < lba + n; s++) {
              if (noOverwrite && current.states[s] !== 'absent') continue;
              const bytes = data.slice((s - lba) * SS, (s - lba + 1) * SS);
              current.states[s] = 'data';
              current.bytes[s] = bytes;
              later.set(s, [...(later.get(s) ?? []), bytes]);
            }
            const fua = random() < 0.1;
            if (!fua) {
              await layer.write(lba, data, { noOverwrite });
              continue;
            }
            // A FUA write makes it durable at once (this layer flushes everything with it).
            inProgress = cloneModel(current);
            await layer.write(lba, data, { noOverwrite, fua });
            flushed = inProgress;
            inProgress = undefined;
            later.clear();
          } else if (r < 0.7) {
            const nextIsZero = random() < 0.5;
            current.states.fill(nextIsZero ? 'absent' : 'zero', lba, lba + n);
            current.bytes.fill(undefined, lba, lba + n);
            await layer.unmap(lba, n, nextIsZero);
          } else if (r < 0.73) {
            const size = Math.max(16, Math.floor(current.sectors * (0.6 + random() * 0.8)));
            if (size < current.sectors) {
              current.states.length = size;
              current.bytes.length = size;
            } else {
              for (let s = current.sectors; s < size; s++) {
                current.states[s] = 'absent';
                current.bytes[s] = undefined;
              }
            }
            current.sectors = size;
            await layer.resize(size);
          } else if (r < 0.76 && files.data.plan) {
            // Close and reopen cleanly now and then: the reopened layer must carry on.
            inProgress = cloneModel(current);
            await layer.close();
            flushed = inProgress;
            inProgress = undefined;
            later.clear();
            const again = { data: new CrashSimSyncFile(files.data.contents()), meta: new CrashSimSyncFile(files.meta.contents()) };
            again.data.plan = plan;
            again.meta.plan = plan;
            // Carry durability over: the reopened files start fully durable, as after a clean close.
            files.data = again.data;
            files.meta = again.meta;
            layer = PersistentLayer.open(files);
          } else {
            inProgress = cloneModel(current);
            await layer.flush();
            flushed = inProgress;
            inProgress = undefined;
            later.clear();
          }
        }
      } catch (e) {
        if (!plan.crashed) throw e;
        if (inProgress) crashesMidFlush++;
      }
      const crashed: PersistentLayerFiles = { data: files.data.crashFile(random), meta: files.meta.crashFile(random) };
      const reopened = PersistentLayer.open(crashed);
      const candidates = inProgress ? [flushed, inProgress] : [flushed];
      const problems: string[] = [];
      let ok = false;
      for (const m of candidates) {
        const problem = await matches(reopened, m, inProgress && m === inProgress ? new Map() : later);
        if (problem === undefined) ok = true;
        else problems.push(problem);
      }
      expect(ok, `iteration ${iter}: ${problems.join('; ')}`).toBe(true);
      // The reopened layer keeps working: write, flush, reopen.
      await reopened.write(0, pattern(SS, 7));
      await reopened.flush();
      const third = PersistentLayer.open({ data: crashed.data, meta: crashed.meta });
      expectSameBytes((await readLayer(third, 0, 1)).buf, pattern(SS, 7));
    }
    expect(crashesMidFlush).toBeGreaterThan(iterations / 10);
  });
});

describe('PersistentLayer', () => {
  it('reopens with exactly what was flushed, through several generations', async () => {
    const files = memoryFiles();
    const layer = PersistentLayer.create(files, { sectors: 1000, chunkBytes: 4096 });
    await layer.write(3, pattern(20 * SS, 1));
    await layer.unmap(10, 4, false);
    await layer.flush();
    await layer.write(500, pattern(8 * SS, 2));
    await layer.unmap(0, 5, true);
    await layer.flush();
    expect(layer.generation).toBe(3);
    const expected = await layer.presence(0, 1000);
    const expectedBytes = (await readLayer(layer, 0, 1000)).buf;
    await layer.close();
    const again = PersistentLayer.open({ data: new CrashSimSyncFile(files.data.contents()), meta: new CrashSimSyncFile(files.meta.contents()) });
    expect(await again.presence(0, 1000)).toEqual(expected);
    expectSameBytes((await readLayer(again, 0, 1000)).buf, expectedBytes);
    expect(again.bytesPresent()).toBe(layer.bytesPresent());
    expect(again.diskId).toEqual(layer.diskId);
  });

  it('does not touch the metadata when data is overwritten in place', async () => {
    const files = memoryFiles();
    const layer = PersistentLayer.create(files, { sectors: 64, chunkBytes: 4096 });
    await layer.write(0, pattern(8 * SS, 1));
    await layer.flush();
    const generation = layer.generation;
    await layer.write(2, pattern(2 * SS, 2));
    expect(layer.dirty).toBe(false);
    await layer.flush();
    expect(layer.generation).toBe(generation);
  });

  it('reuses data slots only after a flush committed an index without them', async () => {
    const files = memoryFiles();
    const layer = PersistentLayer.create(files, { sectors: 64, chunkBytes: 4096 });
    await layer.write(0, pattern(8 * SS, 1));
    await layer.flush();
    await layer.unmap(0, 8, true);
    await layer.write(8, pattern(8 * SS, 2)); // must not land in chunk 0's slot
    const crashed = { data: files.data.crashFile(() => 0), meta: files.meta.crashFile(() => 0) };
    expectSameBytes((await readLayer(PersistentLayer.open(crashed), 0, 8)).buf, pattern(8 * SS, 1));
    await layer.flush();
    await layer.write(16, pattern(8 * SS, 3)); // now the freed slot may be reused
    expect(files.data.size()).toBeLessThanOrEqual(2 * 4096);
  });

  it('keeps the layer readable and consistent when the port reports QUOTA', async () => {
    const files = memoryFiles();
    const layer = PersistentLayer.create(files, { sectors: 20000, chunkBytes: 4096 });
    await layer.write(0, pattern(16 * SS, 1));
    await layer.flush();
    files.data.quotaBytes = files.data.size();
    await expectDiskError(layer.write(100, pattern(8 * SS, 2)), 'QUOTA');
    expect((await layer.presence(96, 16)).length).toBe(0);
    await layer.write(4, pattern(2 * SS, 3)); // in place: no growth, fine
    files.meta.quotaBytes = files.meta.size();
    for (let c = 100; c < 2000; c++) await layer.unmap(c * 8 + 1, 1, false); // an index too big for the room left
    await expectDiskError(layer.flush(), 'QUOTA');
    expectSameBytes((await readLayer(layer, 4, 2)).buf, pattern(2 * SS, 3));
    const crashed = { data: files.data.crashFile(() => 0.9), meta: files.meta.crashFile(() => 0.9) };
    const old = PersistentLayer.open(crashed);
    expect(await old.presence(0, 20000)).toEqual([{ lba: 0, count: 16, state: 'data' }]);
    files.meta.quotaBytes = undefined;
    await layer.flush();
    const now = PersistentLayer.open({ data: new CrashSimSyncFile(files.data.contents()), meta: new CrashSimSyncFile(files.meta.contents()) });
    const runs = await now.presence(0, 20000);
    expect(runs[0]).toEqual({ lba: 0, count: 16, state: 'data' });
    expect(runs.slice(1)).toEqual(Array.from({ length: 1900 }, (_, i) => ({ lba: (100 + i) * 8 + 1, count: 1, state: 'zero' })));
  });

  it('survives a failing flush and commits on the next one', async () => {
    const files = memoryFiles();
    const layer = PersistentLayer.create(files, { sectors: 64, chunkBytes: 4096 });
    await layer.write(0, pattern(4 * SS, 1));
    files.meta.failFlushes = 2;
    await expectDiskError(layer.flush(), 'IO');
    await expectDiskError(layer.flush(), 'IO');
    await layer.write(10, pattern(SS, 2));
    await layer.flush();
    const again = PersistentLayer.open({ data: files.data.crashFile(() => 0), meta: files.meta.crashFile(() => 0) });
    expect(await again.presence(0, 64)).toEqual([
      { lba: 0, count: 4, state: 'data' },
      { lba: 10, count: 1, state: 'data' },
    ]);
  });

  it('reset discards everything durably, and a crash during it leaves old or empty', async () => {
    for (let budget = 0; budget < 8; budget++) {
      const files = memoryFiles();
      const layer = PersistentLayer.create(files, { sectors: 128, chunkBytes: 4096 });
      await layer.write(0, pattern(64 * SS, 1));
      await layer.flush();
      const plan = new CrashPlan(budget);
      files.data.plan = plan;
      files.meta.plan = plan;
      let finished = true;
      try {
        await layer.reset();
      } catch (e) {
        if (!plan.crashed) throw e;
        finished = false;
      }
      if (finished) {
        expect(await layer.presence(0, 128)).toEqual([]);
        expect(layer.bytesPresent()).toBe(0);
      }
      const again = PersistentLayer.open({ data: files.data.crashFile(seededRandom(budget + 1)), meta: files.meta.crashFile(seededRandom(budget + 2)) });
      const runs = await again.presence(0, 128);
      if (runs.length > 0) {
        expect(runs).toEqual([{ lba: 0, count: 64, state: 'data' }]);
        expectSameBytes((await readLayer(again, 0, 64)).buf, pattern(64 * SS, 1));
      }
      if (finished) expect(runs).toEqual([]);
    }
  });

  it('refuses files that hold no layer, and a record that fails its checksum', async () => {
    await expect(async () => PersistentLayer.open(memoryFiles())).rejects.toSatisfy((e) => isDiskError(e, 'CORRUPT_IMAGE'));
    const files = memoryFiles();
    const layer = PersistentLayer.create(files, { sectors: 64 });
    await layer.write(0, pattern(SS, 1));
    await layer.close();
    const meta = files.meta.contents();
    meta[meta.length - 3]! ^= 0xff;
    await expect(async () => PersistentLayer.open({ data: files.data, meta: new CrashSimSyncFile(meta) })).rejects.toSatisfy((e) => isDiskError(e, 'CORRUPT_IMAGE'));
  });

  it('rejects impossible parameters as DiskConfigErrors and I/O after close as ABORTED', async () => {
    expect(() => PersistentLayer.create(memoryFiles(), { sectors: 10, sectorSize: 1000 })).toThrow(/sectorSize/);
    expect(() => PersistentLayer.create(memoryFiles(), { sectors: -1 })).toThrow(/sectors/);
    expect(() => PersistentLayer.create(memoryFiles(), { sectors: 10, chunkBytes: 3000 })).toThrow(/chunkBytes/);
    const layer = PersistentLayer.create(memoryFiles(), { sectors: 10 });
    await layer.close();
    await layer.close();
    await expectDiskError(layer.write(0, pattern(SS, 1)), 'ABORTED');
  });
});

describe('PersistentLayer read: one port call per contiguous run of slots', () => {
  it('reads chunks in consecutive slots with one call, and still returns the right bytes when slots are out of order or chunks partial', async () => {
    const files = memoryFiles();
    let reads = 0;
    const inner = files.data;
    const data = {
      size: () => inner.size(),
      read: (offset: number, into: Uint8Array) => {
        reads++;
        inner.read(offset, into);
      },
      write: (offset: number, bytes: Uint8Array) => inner.write(offset, bytes),
      truncate: (size: number) => inner.truncate(size),
      flush: () => inner.flush(),
      close: () => inner.close(),
    };
    const layer = PersistentLayer.create({ data, meta: files.meta }, { sectors: 64, chunkBytes: 4096 }); // 8 sectors a chunk
    const expected = new Uint8Array(64 * SS).fill(0xee);
    const put = async (lba: number, bytes: Uint8Array) => {
      await layer.write(lba, bytes);
      expected.set(bytes, lba * SS);
    };
    await put(0, pattern(32 * SS, 1)); // chunks 0-3 in slots 0-3
    let { buf } = await readLayer(layer, 0, 32);
    expectSameBytes(buf, expected.subarray(0, 32 * SS));
    expect(reads).toBe(1);
    await put(40, pattern(8 * SS, 2)); // chunk 5 in slot 4
    await put(32, pattern(8 * SS, 3)); // chunk 4 in slot 5: not end to end with chunk 5 in the file
    await put(50, pattern(3 * SS, 4)); // part of chunk 6
    await layer.unmap(52, 1, false); // a zero-state sector inside a data run
    expected.fill(0, 52 * SS, 53 * SS);
    reads = 0;
    const read = await readLayer(layer, 0, 64);
    buf = read.buf;
    for (let s = 0; s < 64; s++) {
      const present = s < 48 || (s >= 50 && s < 53);
      expect(read.marked.has(s)).toBe(present);
      if (present) expectSameBytes(buf.subarray(s * SS, (s + 1) * SS), expected.subarray(s * SS, (s + 1) * SS));
    }
    // chunks 0-3 (one run), chunk 4, chunk 5, and the two data sectors of chunk 6.
    expect(reads).toBe(4);
  });
});
