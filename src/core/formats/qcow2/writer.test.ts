/**
 * The qcow2 write path without QEMU: the Disk conformance suite on writable images in memory
 * (stand-alone, and an overlay over a qcow2 base), a seeded model test checked with our own
 * `checkQcow2` (small clusters, so the refcount table must grow), copy-on-write over a raw
 * backing file, and crash ordering: replaying the file's writes up to any point must give an
 * image with no corruption (leaks allowed) whose clusters read as something once written.
 */
import { describe, expect, it } from 'vitest';
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { seededRandom } from '../../testing/seeded-random.ts';
import type { Inflate } from '../../ports/inflate.ts';
import type { ImageFile } from '../image-file.ts';
import { MemoryImageFile } from '../vhd/memory-image-file.ts';
import { checkQcow2 } from './check.ts';
import { createQcow2 } from './create.ts';
import { openQcow2 } from './open.ts';

const inflate: Inflate = {
  inflateRaw: async () => {
    throw new DiskError('UNSUPPORTED', 'no compressed clusters in these tests');
  },
};

async function newImage(name: string, size: number, options: Parameters<typeof createQcow2>[2] = {}): Promise<MemoryImageFile> {
  const file = new MemoryImageFile(name);
  await createQcow2(file, size, options);
  return file;
}

const reopen = (file: MemoryImageFile, writable = false): MemoryImageFile => new MemoryImageFile(file.name, file.bytes(), writable);

async function expectClean(file: MemoryImageFile): Promise<void> {
  const r = await checkQcow2(reopen(file));
  expect(r.messages).toEqual([]);
  expect(r.corruptions + r.leaks + r['check-errors']).toBe(0);
}

describeDiskConformance({
  name: 'writable qcow2 (in memory)',
  make: async ({ sectorSize, sectors, readOnly }) => {
    const file = await newImage('conf.qcow2', sectors * sectorSize, { clusterSize: 4096 });
    const disk = await openQcow2(readOnly ? reopen(file) : file, { inflate, sectorSize, writable: !readOnly });
    return disk;
  },
  maxSectors: (ss) => Math.floor(2 ** 40 / ss),
});

describeDiskConformance({
  name: 'writable qcow2 overlay over a qcow2 base (in memory)',
  sectorSizes: [512],
  make: async ({ sectorSize, sectors, readOnly }) => {
    const base = await newImage('base.qcow2', sectors * sectorSize, { clusterSize: 4096 });
    const top = await newImage('top.qcow2', sectors * sectorSize, { clusterSize: 4096, backingFile: 'base.qcow2', backingFormat: 'qcow2' });
    return openQcow2(readOnly ? reopen(top) : top, { inflate, sectorSize, writable: !readOnly, resolveBacking: async () => reopen(base) });
  },
  maxSectors: (ss) => Math.floor(2 ** 40 / ss),
});

/** Random writes (some unaligned, some spanning many clusters) and unmaps, against a byte model. */
async function randomOps(disk: Disk, model: Uint8Array, seed: number, ops: number, flushEvery = 7): Promise<void> {
  const rnd = seededRandom(seed);
  const sectors = disk.sectorCount();
  for (let i = 0; i < ops; i++) {
    const lba = Math.floor(rnd() * sectors);
    const n = Math.max(1, Math.min(sectors - lba, 1 + Math.floor(rnd() * (rnd() < 0.2 ? 300 : 20))));
    if (rnd() < 0.15) {
      await disk.unmap(lba, n);
      model.fill(0, lba * 512, (lba + n) * 512);
    } else {
      const data = pattern(n * 512, seed * 1000 + i);
      await disk.write(lba, data, { fua: rnd() < 0.05 });
      model.set(data, lba * 512);
    }
    if (i % flushEvery === 0) await disk.flush();
  }
}

describe('qcow2 writer', () => {
  it('keeps refcounts exact through random writes and unmaps, growing the refcount table (512-byte clusters)', async () => {
    const size = 16 * 2 ** 20;
    const file = await newImage('grow.qcow2', size, { clusterSize: 512 });
    const tableBefore = new DataView(file.bytes().buffer).getUint32(52);
    const disk = await openQcow2(file, { inflate, writable: true });
    const model = new Uint8Array(size);
    await randomOps(disk, model, 7, 900);
    const all = new Uint8Array(size);
    await disk.read(0, all);
    expectSameBytes(all, model, 'before close');
    await disk.close();
    expect(new DataView(file.bytes().buffer).getUint32(52)).not.toBe(tableBefore); // the table moved
    await expectClean(file);
    const again = await openQcow2(reopen(file), { inflate });
    const back = new Uint8Array(size);
    await again.read(0, back);
    expectSameBytes(back, model, 'after reopening');
  });

  it('copies the rest of a partly written cluster from a raw backing file', async () => {
    const cs = 4096;
    const baseBytes = pattern(64 * 1024, 5);
    const base = new MemoryImageFile('base.raw', baseBytes, false);
    const top = await newImage('top.qcow2', 64 * 1024, { clusterSize: cs, backingFile: 'base.raw', backingFormat: 'raw' });
    const disk = await openQcow2(top, { inflate, writable: true, resolveBacking: async () => base });
    await disk.write(9, pattern(512, 9)); // sector 9 of cluster 1
    await disk.unmap(32, 8); // cluster 4, whole: a zero cluster over backing data
    await disk.close();
    await expectClean(top);
    const model = baseBytes.slice();
    model.set(pattern(512, 9), 9 * 512);
    model.fill(0, 32 * 512, 40 * 512);
    const reread = await openQcow2(reopen(top), { inflate, resolveBacking: async () => new MemoryImageFile('base.raw', baseBytes, false) });
    const all = new Uint8Array(model.length);
    await reread.read(0, all);
    expectSameBytes(all, model);
    await reread.close();
  });

  it('detects an unrecorded raw backing file by content', async () => {
    const baseBytes = pattern(8192, 3);
    const top = await newImage('top.qcow2', 8192, { clusterSize: 4096, backingFile: 'base.img' });
    const disk = await openQcow2(top, { inflate, writable: true, resolveBacking: async () => new MemoryImageFile('base.img', baseBytes, false) });
    const buf = new Uint8Array(8192);
    await disk.read(0, buf);
    expectSameBytes(buf, baseBytes);
    await disk.close();
  });

  it('unmaps whole clusters to unallocated when nothing below holds data, freeing them', async () => {
    const file = await newImage('free.qcow2', 1 << 20, { clusterSize: 4096 });
    const disk = await openQcow2(file, { inflate, writable: true });
    await disk.write(0, pattern(64 * 1024, 1));
    await disk.flush();
    const allocated = (await checkQcow2(reopen(file)))['allocated-clusters'];
    await disk.unmap(0, 64);
    await disk.close();
    const r = await checkQcow2(reopen(file));
    expect(allocated).toBe(16);
    expect(r['allocated-clusters']).toBe(8);
    expect(r.leaks + r.corruptions).toBe(0);
  });

  it('allocates past clusters that have a refcount beyond the end of the file (leaked by a crash)', async () => {
    const cs = 4096;
    const bytes = (await newImage('leak.qcow2', 1 << 20, { clusterSize: cs })).bytes();
    const v = new DataView(bytes.buffer);
    const block = Number(v.getBigUint64(Number(v.getBigUint64(48)))); // refcount table entry 0
    v.setUint16(block + 6 * 2, 1); // cluster 6: past the end of the file, as if its data never landed
    const file = new MemoryImageFile('leak.qcow2', bytes);
    const disk = await openQcow2(file, { inflate, writable: true });
    await disk.write(0, pattern(cs, 1));
    await disk.close();
    const r = await checkQcow2(reopen(file));
    expect(r.corruptions).toBe(0);
    expect(r.messages).toEqual(['Leaked cluster 6 refcount=1 reference=0']);
  });

  it('opens read-only files and refused features with typed errors', async () => {
    const file = await newImage('ro.qcow2', 1 << 20);
    await expectDiskError(openQcow2(reopen(file, false), { inflate, writable: true }), 'READ_ONLY');
    const ro = await openQcow2(reopen(file), { inflate });
    expect(ro.readOnly).toBe(true);
    await expectDiskError(openDisk(ro).write(0, new Uint8Array(512)), 'READ_ONLY');
    const dirty = file.bytes();
    dirty[79] = dirty[79]! | 1;
    const e = await expectDiskError(openQcow2(new MemoryImageFile('d.qcow2', dirty), { inflate, writable: true }), 'UNSUPPORTED');
    expect(e.message).toContain('dirty');
  });
});

/** An ImageFile that records every write's bytes, so any prefix of the write stream can be replayed. */
class RecordingFile extends MemoryImageFile {
  readonly events: Array<{ offset: number; data: Uint8Array } | 'flush'> = [];
  override async write(offset: number, data: Uint8Array): Promise<void> {
    this.events.push({ offset, data: data.slice() });
    await super.write(offset, data);
  }
  override async flush(): Promise<void> {
    this.events.push('flush');
    await super.flush();
  }
}

function replay(initial: Uint8Array, events: RecordingFile['events'], upTo: number): ImageFile {
  const file = new MemoryImageFile('crash.qcow2', initial);
  for (const e of events.slice(0, upTo)) if (e !== 'flush') void file.write(e.offset, e.data);
  return new MemoryImageFile('crash.qcow2', file.bytes(), false);
}

describe('qcow2 writer crash ordering', () => {
  it('never leaves metadata pointing at unwritten data or at clusters with refcount 0', async () => {
    const cs = 4096;
    const size = 256 * 1024;
    const created = await newImage('c.qcow2', size, { clusterSize: cs });
    const initial = created.bytes();
    const file = new RecordingFile('c.qcow2', initial);
    const disk = await openQcow2(file, { inflate, writable: true });
    const rnd = seededRandom(99);
    const written = new Map<number, Set<number>>(); // cluster -> fill bytes it has held
    for (let i = 1; i <= 60; i++) {
      const c = Math.floor(rnd() * (size / cs));
      const n = 1 + Math.floor(rnd() * 3);
      const end = Math.min(size / cs, c + n);
      for (let k = c; k < end; k++) (written.get(k) ?? written.set(k, new Set([0])).get(k)!).add(i);
      if (rnd() < 0.2) {
        await disk.unmap((c * cs) / 512, ((end - c) * cs) / 512);
        for (let k = c; k < end; k++) written.get(k)!.add(0);
      } else await disk.write((c * cs) / 512, new Uint8Array((end - c) * cs).fill(i));
      if (i % 5 === 0) await disk.flush();
    }
    await disk.close();
    const points = file.events.map((_, i) => i + 1).filter((i) => i % 3 === 0 || file.events[i - 1] === 'flush');
    for (const upTo of points) {
      const image = replay(initial, file.events, upTo);
      const r = await checkQcow2(image);
      expect(r.corruptions, `after ${upTo} events: ${r.messages.join('; ')}`).toBe(0);
      const state = await openQcow2(image, { inflate });
      const buf = new Uint8Array(cs);
      for (let c = 0; c < size / cs; c++) {
        await state.read((c * cs) / 512, buf);
        const v = buf[0]!;
        expect(buf.every((b) => b === v), `cluster ${c} after ${upTo} events is not one write`).toBe(true);
        expect(written.get(c)?.has(v) ?? v === 0, `cluster ${c} after ${upTo} events holds ${v}`).toBe(true);
      }
      if (upTo % 4 !== 0) continue;
      // Writing on after the crash never double-counts a cluster leaked past the end of the file.
      const resumed = new MemoryImageFile('resumed.qcow2', (image as MemoryImageFile).bytes());
      const more = await openQcow2(resumed, { inflate, writable: true });
      await more.write(0, new Uint8Array(3 * cs).fill(200));
      await more.close();
      const after = await checkQcow2(reopen(resumed));
      expect(after.corruptions, `resumed after ${upTo} events: ${after.messages.join('; ')}`).toBe(0);
      expect(after.leaks).toBe(r.leaks);
    }
  });
});
