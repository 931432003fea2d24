import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { DiskConfigError } from '../../disk/errors.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import { RamLayer } from '../../layered/ram-layer.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { imageFileFromSync, type ImageFile } from '../image-file.ts';
import { VHD_UNALLOCATED, dynamicHeaderChecksum, parseVhdDynamicHeader } from './dynamic-header.ts';
import { createVhdDynamic } from './create-dynamic.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from './dynamic-disk.ts';
import { MemoryImageFile } from './memory-image-file.ts';
import { openVhdDynamic } from './open-dynamic.ts';
import { fixedFooterFor } from './fixed.ts';
import { serializeVhdFooter } from './footer.ts';
import { decodeLocator, encodeParentLocators } from './parent-locator.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-vhd-dyn-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => path.join(dir, `d${counter++}.vhd`);
const nodeImage = (p: string, writable: boolean, create = false): ImageFile =>
  imageFileFromSync(new NodeSyncFile(p, { create, readOnly: !writable }), { name: p, writable });

describeDiskConformance({
  name: 'VhdDynamicDisk',
  sectorSizes: [512],
  maxSectors: () => 0xff00_0000 - 1,
  make: async ({ sectors, readOnly }) => {
    const p = freshPath();
    // Small blocks so 300 sectors span several; the default for the giant disk keeps its BAT small.
    const blockSize = sectors > 1_000_000 ? 2 * 1024 * 1024 : 64 * 1024;
    const created = await createVhdDynamic(nodeImage(p, true, true), sectors * 512, { blockSize });
    await created.file.close();
    const opened = await openVhdDynamic(nodeImage(p, !readOnly), { readOnly });
    if (opened.kind !== 'dynamic') throw new Error('expected a dynamic VHD');
    return opened.disk;
  },
});

async function memoryDynamic(sizeBytes: number, blockSize = 4096): Promise<{ file: MemoryImageFile; disk: VhdDynamicDisk }> {
  const file = new MemoryImageFile('mem.vhd');
  const image = await createVhdDynamic(file, sizeBytes, { blockSize });
  return { file, disk: new VhdDynamicDisk(image) };
}

describe('dynamic VHD', () => {
  it('creates the layout the specification describes', async () => {
    const { file, disk } = await memoryDynamic(10 * 4096 + 512);
    const bytes = file.bytes();
    expect(bytes.length).toBe(512 + 1024 + 512 + 512);
    expectSameBytes(bytes.subarray(0, 512), bytes.subarray(-512), 'footer copy');
    const header = parseVhdDynamicHeader(bytes.subarray(512, 1536));
    expect(header).toMatchObject({ tableOffset: 1536, maxTableEntries: 11, blockSize: 4096 });
    expect(disk.sectorCount()).toBe(81);
    for (let b = 0; b < 11; b++) expect(disk.image.batEntry(b)).toBe(VHD_UNALLOCATED);
  });

  it('allocates a block at the end, sets only the written sectors’ bits, and moves the footer', async () => {
    const { file, disk } = await memoryDynamic(64 * 1024);
    const sizeBefore = file.size();
    await disk.write(9, pattern(1024, 1)); // sectors 9 and 10: block 1 (8 sectors per block)
    const bytes = file.bytes();
    expect(disk.image.batEntry(1)).toBe((sizeBefore - 512) / 512);
    const bitmapAt = (sizeBefore - 512);
    expect(bytes[bitmapAt]).toBe(0b0110_0000);
    expect(bytes.subarray(bitmapAt + 1, bitmapAt + 512).every((b) => b === 0)).toBe(true);
    expect(file.size()).toBe(sizeBefore + 512 + 4096);
    expectSameBytes(bytes.subarray(-512), bytes.subarray(0, 512), 'moved footer');
    const out = new Uint8Array(4096);
    await disk.read(8, out);
    expectSameBytes(out.subarray(512, 1536), pattern(1024, 1));
    expect(out.subarray(0, 512).every((b) => b === 0) && out.subarray(1536).every((b) => b === 0)).toBe(true);
  });

  it('flushes data and bitmap before the BAT points at them, and data before bitmap bits claim it', async () => {
    const { file, disk } = await memoryDynamic(64 * 1024);
    file.log.length = 0;
    await disk.write(0, pattern(512, 2));
    const batWrite = file.log.findIndex((e) => e.op === 'write' && e.offset === 1536);
    expect(batWrite).toBeGreaterThan(0);
    expect(file.log[batWrite - 1]).toEqual({ op: 'flush' });
    expect(file.log.slice(0, batWrite).filter((e) => e.op === 'write').length).toBe(3); // bitmap, data, footer
    file.log.length = 0;
    await disk.write(3, pattern(512, 3)); // same block: data, flush, bitmap
    expect(file.log.map((e) => e.op)).toEqual(['write', 'flush', 'write']);
    const bitmapWrite = file.log[2] as { offset: number };
    expect(bitmapWrite.offset).toBe(disk.image.batEntry(0) * 512);
    file.log.length = 0;
    await disk.write(3, pattern(512, 4)); // bits already set: just the data
    expect(file.log.map((e) => e.op)).toEqual(['write']);
  });

  it('reads sectors whose bitmap bit is clear as zeroes even if the block holds bytes there', async () => {
    const { file, disk } = await memoryDynamic(64 * 1024);
    await disk.write(0, pattern(512, 5));
    const dataAt = disk.image.batEntry(0) * 512 + 512;
    await file.write(dataAt + 512, pattern(512, 6)); // sector 1: bytes but no bit
    const reopened = await openVhdDynamic(file);
    const out = new Uint8Array(1024);
    if (reopened.kind !== 'dynamic') throw new Error('dynamic expected');
    await reopened.disk.read(0, out);
    expectSameBytes(out.subarray(0, 512), pattern(512, 5));
    expect(out.subarray(512).every((b) => b === 0)).toBe(true);
  });

  it('serialises concurrent writes to the same new block without losing any', async () => {
    const { disk } = await memoryDynamic(64 * 1024);
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((s) => disk.write(s, pattern(512, 10 + s))));
    const out = new Uint8Array(4096);
    await disk.read(0, out);
    for (let s = 0; s < 8; s++) expectSameBytes(out.subarray(s * 512, (s + 1) * 512), pattern(512, 10 + s), `sector ${s}`);
    expect(disk.image.bytesPresent()).toBe(4096);
  });

  it('ignores unmap (data stays) and rejects writes when read-only', async () => {
    const { file, disk } = await memoryDynamic(64 * 1024);
    await disk.write(4, pattern(512, 7));
    await disk.unmap(0, 16);
    const out = new Uint8Array(512);
    await disk.read(4, out);
    expectSameBytes(out, pattern(512, 7));
    const ro = await openVhdDynamic(file, { readOnly: true });
    if (ro.kind !== 'dynamic') throw new Error('dynamic expected');
    await expectDiskError(openDisk(ro.disk).write(0, pattern(512, 1)), 'READ_ONLY');
    await expectDiskError(ro.disk.write(0, pattern(512, 1)), 'READ_ONLY');
    await expectDiskError(openVhdDynamic(new MemoryImageFile('ro', file.bytes(), false), { readOnly: false }), 'READ_ONLY');
  });

  it('rejects bad creation parameters as DiskConfigError', async () => {
    await expect(createVhdDynamic(new MemoryImageFile('x'), 1000)).rejects.toBeInstanceOf(DiskConfigError);
    await expect(createVhdDynamic(new MemoryImageFile('x'), 4096, { blockSize: 3000 })).rejects.toBeInstanceOf(DiskConfigError);
  });
});

describe('parent locators', () => {
  it('encodes relative names as W2ru and absolute ones as W2ku, and decodes every platform', () => {
    const [rel] = encodeParentLocators('base/parent.vhd');
    expect(rel?.platformCode).toBe('W2ru');
    expect(decodeLocator({ platformCode: 'W2ru' }, rel!.data)).toBe('.\\base\\parent.vhd');
    const [abs] = encodeParentLocators('C:\\vms\\p.vhd');
    expect(abs?.platformCode).toBe('W2ku');
    expect(decodeLocator({ platformCode: 'W2ku' }, abs!.data)).toBe('C:\\vms\\p.vhd');
    const mac = new TextEncoder().encode('file://localhost/Users/me/My%20Disk.vhd\0\0');
    expect(decodeLocator({ platformCode: 'MacX' }, mac)).toBe('/Users/me/My Disk.vhd');
    expect(decodeLocator({ platformCode: 'Mac ' }, mac)).toBe('');
  });
});

describe('differencing VHD', () => {
  const SIZE = 64 * 1024; // 16 blocks of 4 KiB

  async function chain() {
    const base = new MemoryImageFile('base.vhd');
    const baseDisk = new VhdDynamicDisk(await createVhdDynamic(base, SIZE, { blockSize: 4096 }));
    const baseData = pattern(SIZE, 40);
    await baseDisk.write(0, baseData);
    const mid = new MemoryImageFile('mid.vhd');
    await createVhdDynamic(mid, SIZE, { blockSize: 4096, parent: { file: base, name: 'base.vhd' } });
    const top = new MemoryImageFile('top.vhd');
    await createVhdDynamic(top, SIZE, { blockSize: 4096, parent: { file: mid, name: 'C:\\vms\\mid.vhd' } });
    const files = new Map<string, MemoryImageFile>([['.\\base.vhd', base], ['C:\\vms\\mid.vhd', mid]]);
    const asked: string[][] = [];
    const resolveParent = async (c: string[]) => {
      asked.push(c);
      const f = files.get(c[0]!);
      if (!f) throw new Error(`no parent among ${c.join(', ')}`);
      return f;
    };
    return { base, mid, top, baseData, resolveParent, asked };
  }

  it('reads a three-level chain with per-sector presence', async () => {
    const { mid, top, baseData, resolveParent, asked } = await chain();
    const expected = baseData.slice();
    const midOpen = await openVhdDynamic(mid, { resolveParent });
    if (midOpen.kind !== 'differencing') throw new Error('differencing expected');
    await midOpen.layer.write(3, pattern(512, 41)); // one sector of block 0
    expected.set(pattern(512, 41), 3 * 512);
    await midOpen.layer.write(20, pattern(2048, 42)); // straddles blocks 2 and 3
    expected.set(pattern(2048, 42), 20 * 512);
    const opened = await openVhdDynamic(top, { resolveParent });
    if (opened.kind !== 'differencing' || !opened.disk) throw new Error('chain expected');
    expect(asked).toContainEqual(['C:\\vms\\mid.vhd', 'mid.vhd']);
    expect(opened.layers.map((l) => l.layerType)).toEqual(['vhd-differencing', 'vhd-differencing', 'disk:vhd-dynamic']);
    expect(opened.warnings).toEqual([]);
    const disk = openDisk(opened.disk);
    await disk.write(4, pattern(512, 43)); // next to mid's sector 3, same block
    expected.set(pattern(512, 43), 4 * 512);
    await disk.write(127, pattern(512, 44));
    expected.set(pattern(512, 44), 127 * 512);
    const out = new Uint8Array(SIZE);
    await disk.read(0, out);
    expectSameBytes(out, expected, 'chain');
    expect(await opened.layer.presence(0, 128)).toEqual([
      { lba: 4, count: 1, state: 'data' },
      { lba: 127, count: 1, state: 'data' },
    ]);
    expect(opened.layer.bytesPresent()).toBe(1024);
    // The same chain stacked by hand, over a RamLayer top, reads the same.
    const byHand = new LayeredDisk([{ layer: new RamLayer({ sectors: 128 }) }, ...opened.layers.map((layer) => ({ layer }))]);
    const again = new Uint8Array(SIZE);
    await byHand.read(0, again);
    expectSameBytes(again, expected, 'hand-stacked chain');
  });

  it('stacks a child over a fixed VHD parent read through an ImageFile', async () => {
    const data = pattern(SIZE, 60);
    const fixedBytes = new Uint8Array(SIZE + 512);
    fixedBytes.set(data);
    fixedBytes.set(serializeVhdFooter(fixedFooterFor(SIZE)), SIZE);
    const fixed = new MemoryImageFile('fixed.vhd', fixedBytes, false);
    const child = new MemoryImageFile('child.vhd');
    await createVhdDynamic(child, SIZE, { blockSize: 4096, parent: { file: fixed, name: 'fixed.vhd' } });
    const opened = await openVhdDynamic(child, { resolveParent: async () => fixed });
    if (opened.kind !== 'differencing' || !opened.disk) throw new Error('chain expected');
    expect(opened.layers.map((l) => l.layerType)).toEqual(['vhd-differencing', 'disk:vhd-fixed']);
    await opened.disk.write(10, pattern(512, 61));
    data.set(pattern(512, 61), 10 * 512);
    const out = new Uint8Array(SIZE);
    await opened.disk.read(0, out);
    expectSameBytes(out, data, 'chain over fixed');
    expectSameBytes(fixed.bytes().subarray(0, SIZE), fixedBytes.subarray(0, SIZE), 'parent untouched');
  });

  it('refuses a parent whose unique id differs, naming both ids', async () => {
    const { top, resolveParent } = await chain();
    const impostor = new MemoryImageFile('impostor.vhd');
    await createVhdDynamic(impostor, SIZE, { blockSize: 4096 });
    const e = await expectDiskError(openVhdDynamic(top, { resolveParent: async () => impostor }), 'CORRUPT_IMAGE');
    expect(e.field).toBe('parentUniqueId');
    expect(e.message).toMatch(/[0-9a-f]{8}-.*[0-9a-f]{8}-/);
    void resolveParent;
  });

  it('only warns when the parent time stamp differs', async () => {
    const { top, resolveParent } = await chain();
    const bytes = top.bytes();
    const view = new DataView(bytes.buffer);
    view.setUint32(512 + 56, view.getUint32(512 + 56) + 1);
    view.setUint32(512 + 36, dynamicHeaderChecksum(bytes.subarray(512, 1536)));
    const opened = await openVhdDynamic(new MemoryImageFile('top.vhd', bytes), { resolveParent });
    expect(opened.warnings.length).toBe(1);
    expect(opened.warnings[0]).toMatch(/time stamp/);
  });

  it('without a resolver, returns the child layer and its parent candidates', async () => {
    const { top } = await chain();
    const opened = await openVhdDynamic(top);
    if (opened.kind !== 'differencing') throw new Error('differencing expected');
    expect(opened.disk).toBeUndefined();
    expect(opened.parentCandidates).toEqual(['C:\\vms\\mid.vhd', 'mid.vhd']);
    expect(opened.layer).toBeInstanceOf(VhdDifferencingLayer);
  });

  it('honours write-no-overwrite per sector', async () => {
    const { mid } = await chain();
    const layer = new VhdDifferencingLayer((await openVhdDynamic(mid)).image);
    await layer.write(2, pattern(512, 50));
    await layer.write(0, pattern(4 * 512, 51), { noOverwrite: true });
    const out = new Uint8Array(4 * 512);
    const marked: number[] = [];
    await layer.read(0, out, { mark: (lba, n) => { for (let i = 0; i < n; i++) marked.push(lba + i); } });
    expect(marked).toEqual([0, 1, 2, 3]);
    expectSameBytes(out.subarray(1024, 1536), pattern(512, 50), 'kept sector');
    expectSameBytes(out.subarray(0, 1024), pattern(4 * 512, 51).subarray(0, 1024), 'filled sectors');
  });
});
