import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import type { Disk } from '../disk/disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { DiskLayer } from './disk-layer.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from './layer.ts';
import { LayeredDisk } from './layered-disk.ts';
import { RamLayer } from './ram-layer.ts';

const CHUNK = 8192;
const ramLayer = (sectorSize: number, sectors: number, readOnly = false) => new RamLayer({ sectorSize, sectors, readOnly, chunkBytes: CHUNK });
const diskLayer = (sectorSize: number, sectors: number, readOnly = false) =>
  new DiskLayer(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: CHUNK }));

describeDiskConformance({
  name: 'LayeredDisk: RAM layer over DiskLayer(RamDisk)',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new LayeredDisk([{ layer: ramLayer(sectorSize, sectors, readOnly) }, { layer: diskLayer(sectorSize, sectors, true) }]),
});

describeDiskConformance({
  name: 'LayeredDisk: RAM layer only',
  make: async ({ sectorSize, sectors, readOnly }) => new LayeredDisk([{ layer: ramLayer(sectorSize, sectors, readOnly) }]),
});

describeDiskConformance({
  name: 'LayeredDisk: read-cache RAM + RAM + DiskLayer(RamDisk)',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new LayeredDisk(
      [{ layer: ramLayer(sectorSize, sectors), readCache: true }, { layer: ramLayer(sectorSize, sectors) }, { layer: diskLayer(sectorSize, sectors, true) }],
      { readOnly },
    ),
});

describeDiskConformance({
  name: 'LayeredDisk: write-through chain RAM -> RAM -> DiskLayer(RamDisk)',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new LayeredDisk([
      { layer: ramLayer(sectorSize, sectors, readOnly), writeThrough: true },
      { layer: ramLayer(sectorSize, sectors, readOnly), writeThrough: true },
      { layer: diskLayer(sectorSize, sectors, readOnly) },
    ]),
});

describeDiskConformance({
  name: 'LayeredDisk: write-through read cache over DiskLayer(RamDisk)',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new LayeredDisk([{ layer: ramLayer(sectorSize, sectors, readOnly), readCache: true, writeThrough: true }, { layer: diskLayer(sectorSize, sectors, readOnly) }]),
});

/** Delegates to a layer, counting calls and optionally holding reads at a gate (before or after the inner read). */
class GatedLayer implements Layer {
  readonly inner: Layer;
  gateBefore: Promise<void> | undefined;
  gateAfter: Promise<void> | undefined;
  flushes = 0;
  closes = 0;
  readonly writes: Array<{ lba: number; sectors: number; options: LayerWriteOptions | undefined }> = [];
  constructor(inner: Layer) {
    this.inner = inner;
  }
  get layerType() { return `gated:${this.inner.layerType}`; }
  get sectorSize() { return this.inner.sectorSize; }
  get physicalSectorSize() { return this.inner.physicalSectorSize; }
  get readOnly() { return this.inner.readOnly; }
  get fuaRespected() { return this.inner.fuaRespected; }
  get unmapBehavior() { return this.inner.unmapBehavior; }
  get optimalUnmapSectors() { return this.inner.optimalUnmapSectors; }
  get diskId() { return this.inner.diskId; }
  sectorCount() { return this.inner.sectorCount(); }
  async read(lba: number, buf: Uint8Array, marker: SectorMarker) {
    await this.gateBefore;
    await this.inner.read(lba, buf, marker);
    await this.gateAfter;
  }
  async write(lba: number, data: Uint8Array, options?: LayerWriteOptions) {
    this.writes.push({ lba, sectors: data.length / this.sectorSize, options });
    await this.inner.write(lba, data, options);
  }
  unmap(lba: number, count: number, nextIsZero: boolean) { return this.inner.unmap(lba, count, nextIsZero); }
  async flush() { this.flushes++; await this.inner.flush(); }
  async close() { this.closes++; await this.inner.close(); }
  presence(lba: number, count: number): Promise<PresenceRun[]> { return this.inner.presence(lba, count); }
  occupancyMap(buckets: number, lba?: number, count?: number) { return this.inner.occupancyMap(buckets, lba, count); }
  bytesPresent() { return this.inner.bytesPresent(); }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function readDisk(disk: Disk, lba: number, sectors: number): Promise<Uint8Array> {
  const buf = new Uint8Array(sectors * disk.sectorSize);
  await disk.read(lba, buf);
  return buf;
}

async function preloaded(sectors: number, seed: number): Promise<RamDisk> {
  const disk = new RamDisk({ sectors, chunkBytes: CHUNK });
  await disk.write(0, pattern(sectors * 512, seed));
  return disk;
}

const S = 512;

describe('LayeredDisk', () => {
  it('takes each run from the topmost layer holding it, and counts who served what', async () => {
    const top = ramLayer(S, 64);
    const mid = ramLayer(S, 64);
    const disk = new LayeredDisk([{ layer: top }, { layer: mid }, { layer: diskLayer(S, 32) }]);
    await top.write(4, pattern(4 * S, 1));
    await mid.write(0, pattern(16 * S, 2));
    await mid.unmap(10, 2, false);
    const got = await readDisk(disk, 0, 40);
    expectSameBytes(got.subarray(0, 4 * S), pattern(16 * S, 2).subarray(0, 4 * S));
    expectSameBytes(got.subarray(4 * S, 8 * S), pattern(4 * S, 1));
    expectSameBytes(got.subarray(8 * S, 10 * S), pattern(16 * S, 2).subarray(8 * S, 10 * S));
    expectSameBytes(got.subarray(10 * S, 12 * S), new Uint8Array(2 * S));
    const stats = disk.readStats();
    expect(stats.servedSectors).toEqual([4, 12, 16]); // the base is 32 sectors: 32..40 are nobody's
    expect(stats.zeroFilledSectors).toBe(8);
    expect(stats.reads).toBe(1);
    disk.resetReadStats();
    expect(disk.readStats().servedSectors).toEqual([0, 0, 0]);
  });

  it('fills a read cache with what it found below, then serves from it', async () => {
    const cache = ramLayer(S, 64);
    const disk = new LayeredDisk([{ layer: cache, readCache: true }, { layer: new DiskLayer(await preloaded(32, 5)) }]);
    const first = await readDisk(disk, 20, 20);
    expect(await cache.presence(0, 64)).toEqual([{ lba: 20, count: 12, state: 'data' }]); // zero-filled 32..40 are not cached
    expect(disk.readStats().cacheFilledSectors).toEqual([12, 0]);
    disk.resetReadStats();
    expectSameBytes(await readDisk(disk, 20, 20), first);
    expect(disk.readStats().servedSectors).toEqual([12, 0]);
  });

  it('never lets a cache fill clobber a write that raced the read', async () => {
    const cache = ramLayer(S, 64);
    const base = new GatedLayer(new DiskLayer(await preloaded(64, 6)));
    const disk = new LayeredDisk([{ layer: cache, readCache: true, writeThrough: true }, { layer: base }]);
    const held = gate();
    base.gateAfter = held.promise; // the read has fetched the old data and waits before filling the cache
    const reading = readDisk(disk, 8, 8);
    await new Promise((r) => setTimeout(r, 0));
    base.gateAfter = undefined;
    await disk.write(10, pattern(2 * S, 7)); // lands in the cache (and the base) while the read waits
    held.open();
    expectSameBytes((await reading).subarray(2 * S, 4 * S), pattern(64 * S, 6).subarray(10 * S, 12 * S), 'the read saw the old data');
    expectSameBytes((await readDisk(disk, 10, 2)), pattern(2 * S, 7));
    expect(base.writes.filter((w) => w.options?.noOverwrite)).toEqual([]);
  });

  it('never lets a cache fill resurrect data under an unmap that raced the read', async () => {
    const cache = ramLayer(S, 64);
    const base = new GatedLayer(ramLayer(S, 64));
    await base.write(0, pattern(64 * S, 15));
    const disk = new LayeredDisk([{ layer: cache, readCache: true, writeThrough: true }, { layer: base }]);
    const held = gate();
    base.gateAfter = held.promise;
    const reading = readDisk(disk, 0, 8);
    await new Promise((r) => setTimeout(r, 0));
    base.gateAfter = undefined;
    await disk.unmap(0, 8); // nothing lies below the base, yet the cache must keep a zero record
    held.open();
    await reading;
    expectSameBytes(await readDisk(disk, 0, 8), new Uint8Array(8 * S));
    expect(await cache.presence(0, 8)).toEqual([{ lba: 0, count: 8, state: 'zero' }]);
  });

  it('fills caches from a private buffer, so scribbling on the caller’s buffer mid-read cannot poison them', async () => {
    const cache = ramLayer(S, 64);
    const base = new GatedLayer(new DiskLayer(await preloaded(64, 8)));
    const disk = new LayeredDisk([{ layer: cache, readCache: true }, { layer: base }]);
    const held = gate();
    base.gateAfter = held.promise;
    const buf = new Uint8Array(8 * S);
    const reading = disk.read(0, buf);
    await new Promise((r) => setTimeout(r, 0));
    buf.fill(0x55);
    held.open();
    await reading;
    expectSameBytes(buf, pattern(64 * S, 8).subarray(0, 8 * S), 'the read still returns the data');
    const cached = new Uint8Array(8 * S);
    const marker = { marked: 0, mark(_lba: number, n: number) { this.marked += n; } };
    await cache.read(0, cached, marker);
    expect(marker.marked).toBe(8);
    expectSameBytes(cached, pattern(64 * S, 8).subarray(0, 8 * S), 'the cache holds the base data');
  });

  it('counts a failed cache fill without failing the read', async () => {
    const cache = ramLayer(S, 64);
    cache.write = async () => {
      throw new Error('cache full');
    };
    const disk = new LayeredDisk([{ layer: cache, readCache: true }, { layer: new DiskLayer(await preloaded(64, 9)) }]);
    expectSameBytes(await readDisk(disk, 0, 4), pattern(64 * S, 9).subarray(0, 4 * S));
    expect(disk.readStats().cacheFillErrors).toBe(1);
    expect(disk.readStats().lastCacheFillError?.code).toBe('IO');
  });

  it('writes down the write-through chain and unmaps bottom-up, dropping to absent where nothing lies below', async () => {
    const a = ramLayer(S, 64);
    const b = ramLayer(S, 64);
    const c = ramLayer(S, 64);
    const disk = new LayeredDisk([{ layer: a, writeThrough: true }, { layer: b }, { layer: c }]);
    await c.write(30, pattern(4 * S, 1));
    await disk.write(0, pattern(40 * S, 2), { fua: true });
    expect(await a.presence(0, 64)).toEqual([{ lba: 0, count: 40, state: 'data' }]);
    expect(await b.presence(0, 64)).toEqual([{ lba: 0, count: 40, state: 'data' }]);
    await disk.unmap(0, 40);
    expectSameBytes(await readDisk(disk, 0, 40), new Uint8Array(40 * S));
    // Where c holds data, a and b must say zero; elsewhere they can forget the sectors.
    expect(await a.presence(0, 64)).toEqual([{ lba: 30, count: 4, state: 'zero' }]);
    expect(await b.presence(0, 64)).toEqual([{ lba: 30, count: 4, state: 'zero' }]);
  });

  it('ignores unmap when a write-through layer would not zero, and inherits a lone top’s behaviour', async () => {
    const unspecified = async () => Object.assign(await preloaded(16, 3), { unmapBehavior: 'unspecified' as const });
    const chain = new LayeredDisk([{ layer: ramLayer(S, 16), writeThrough: true }, { layer: new DiskLayer(await unspecified()) }]);
    expect(chain.unmapBehavior).toBe('ignored');
    await chain.write(0, pattern(2 * S, 4));
    await chain.unmap(0, 16);
    expectSameBytes(await readDisk(chain, 0, 2), pattern(2 * S, 4));
    const lone = new LayeredDisk([{ layer: new DiskLayer(await unspecified()) }, { layer: ramLayer(S, 16) }]);
    expect(lone.unmapBehavior).toBe('unspecified');
  });

  it('flushes the write path and read caches only, and closes every layer', async () => {
    const layers = [ramLayer(S, 16), ramLayer(S, 16), ramLayer(S, 16), ramLayer(S, 16)].map((l) => new GatedLayer(l));
    const disk = new LayeredDisk([
      { layer: layers[0]!, writeThrough: true },
      { layer: layers[1]! },
      { layer: layers[2]!, readCache: true },
      { layer: layers[3]! },
    ]);
    await disk.flush();
    expect(layers.map((l) => l.flushes)).toEqual([1, 1, 1, 0]);
    await disk.close();
    expect(layers.map((l) => l.closes)).toEqual([1, 1, 1, 1]);
  });

  it('reads a bigger overlay’s tail as zero, hides a bigger base’s tail, and keeps it hidden across resizes', async () => {
    const overlay = new LayeredDisk([{ layer: ramLayer(S, 64) }, { layer: new DiskLayer(await preloaded(32, 11)) }]);
    const got = await readDisk(overlay, 0, 64);
    expectSameBytes(got.subarray(0, 32 * S), pattern(32 * S, 11));
    expectSameBytes(got.subarray(32 * S), new Uint8Array(32 * S));
    const disk = new LayeredDisk([{ layer: ramLayer(S, 32) }, { layer: new DiskLayer(await preloaded(64, 12)) }]);
    expect(disk.sectorCount()).toBe(32);
    await disk.resize!(64);
    expectSameBytes((await readDisk(disk, 0, 64)).subarray(32 * S), new Uint8Array(32 * S), 'grown area');
    await disk.resize!(16);
    await disk.resize!(32);
    expectSameBytes((await readDisk(disk, 0, 32)).subarray(16 * S), new Uint8Array(16 * S), 'area cut off and regrown');
    expect(disk.layerInfo().map((l) => l.visibleSectors)).toEqual([32, 16]);
    await expectDiskError(disk.presence(1, 0, 33), 'OUT_OF_RANGE');
  });

  it('reports each layer’s occupancy in disk coordinates', async () => {
    const top = ramLayer(S, 100);
    const disk = new LayeredDisk([{ layer: top }, { layer: new DiskLayer(await preloaded(50, 13)) }]);
    await disk.write(0, pattern(10 * S, 14));
    expect(Array.from(await disk.occupancyMap(0, 10))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(await disk.occupancyMap(1, 4))).toEqual([1, 1, 0, 0]);
    expect(await disk.presence(1, 40, 20)).toEqual([{ lba: 40, count: 10, state: 'data' }]);
    await expectDiskError(disk.occupancyMap(2, 4), 'INVALID_INPUT');
  });
});
