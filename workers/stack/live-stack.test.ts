import { describe, expect, it } from 'vitest';
import { LiveStack } from './live-stack.ts';
import { SwitchableDisk } from './switchable-disk.ts';
import { BlobRangeSource } from '../platform/blob-range-source.ts';
import type { SpecPlatform } from '../../src/core/resolve-spec.ts';
import type { DiskSpec } from '../../src/core/spec.ts';
import { DiskError } from '../../src/core/disk/errors.ts';
import { RamDisk } from '../../src/core/backends/ram-disk.ts';
import { fixedFooterFor } from '../../src/core/formats/vhd/fixed.ts';
import { serializeVhdFooter } from '../../src/core/formats/vhd/footer.ts';
import { expectDiskError, expectSameBytes, pattern } from '../../src/core/testing/disk-conformance.ts';
import { createVhdDynamic } from '../../src/core/formats/vhd/create-dynamic.ts';
import { VhdDynamicDisk } from '../../src/core/formats/vhd/dynamic-disk.ts';
import { MemoryImageFile } from '../../src/core/formats/vhd/memory-image-file.ts';
import { openVhdDynamic } from '../../src/core/formats/vhd/open-dynamic.ts';
import { writeMbr } from '../../src/core/formats/partitions/table-builder.ts';

const platform: SpecPlatform = {
  openFile: () => Promise.reject(new DiskError('UNSUPPORTED', 'no OPFS in this test')),
  blobSource: (blob, name) => new BlobRangeSource(blob, name),
};

const SECTORS = 64;
const base = pattern(SECTORS * 512, 11);

function sampleBlob(): Blob {
  const image = new Uint8Array(base.length + 512);
  image.set(base);
  image.set(serializeVhdFooter(fixedFooterFor(base.length, { now: 0 })), base.length);
  return new Blob([image]);
}

async function blobStack(): Promise<{ stack: LiveStack; blob: Blob }> {
  const blob = sampleBlob();
  return { stack: await LiveStack.open('s1', 'sample', { kind: 'blob', blob, name: 'sample.vhd' }, platform), blob };
}

describe('LiveStack', () => {
  it('puts a RAM diff on a read-only image, so writes land in RAM and the image is untouched', async () => {
    const { stack, blob } = await blobStack();
    expect(stack.info().readOnly).toBe(true);
    expect(stack.info().layers).toEqual([]);
    const info = await stack.addOverlay({ kind: 'ram-diff' });
    expect(info.readOnly).toBe(false);
    expect(info.tree).toMatchObject({
      id: 'overlay-1.stack', role: 'layered',
      children: [
        { id: 'overlay-1', role: 'layer', removable: true, layerIndex: 0, bytesPresent: 0 },
        { id: 'overlay-1.below', role: 'layer', layerIndex: 1, children: [{ id: 'n', role: 'format', diskType: 'vhd-fixed', readOnly: true }] },
      ],
    });
    const write = await stack.runShell('write -P 0xab 0 4096');
    expect(write.ok).toBe(true);
    const read = await stack.runShell('read -v 0 16');
    expect(read.lines[0]!.text).toMatch(/^00000000:\s+ab ab ab/);
    const dump = await stack.readSectors(6, 4);
    expect([...dump.sourceLayer]).toEqual([0, 0, 1, 1]);
    expectSameBytes(dump.data.subarray(1024), base.subarray(8 * 512, 10 * 512));
    expect(dump.layerNames).toEqual(['RAM diff layer', 'disk layer (vhd-fixed)']);
    const occ = await stack.occupancy({ buckets: 8 });
    expect(occ.layers.map((l) => [...l.map])).toEqual([[1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]]);
    expect(stack.info().layers[0]!.bytesPresent).toBe(4096);
    expectSameBytes(new Uint8Array(await blob.arrayBuffer()).subarray(0, base.length), base);
    await stack.close();
  });

  it('keeps lower data and counts when overlays come and go, and drops only what is removed', async () => {
    const { stack } = await blobStack();
    await stack.addOverlay({ kind: 'ram-diff' });
    await stack.runShell('write -P 0x11 0 512');
    await stack.readSectors(0, 1);
    await stack.addOverlay({ kind: 'delay', readUs: 0, writeUs: 0 });
    await stack.readSectors(0, 1);
    // Both reads were served by the first RAM diff: its count survives the recomposition.
    expect(stack.info().layers[0]!.servedSectors).toBe(2);
    let info = await stack.addOverlay({ kind: 'ram-diff' });
    // The second RAM diff joins the same flat stack, above the delay's layered disk via a disk layer.
    expect(info.tree.children[0]!.id).toBe('overlay-3');
    await stack.runShell('write -P 0x22 512 512');
    const both = await stack.readSectors(0, 3);
    expect([both.data[0], both.data[512], both.data[1024]]).toEqual([0x11, 0x22, base[1024]]);
    info = await stack.removeOverlay('overlay-3');
    const after = await stack.readSectors(0, 2);
    expect([after.data[0], after.data[512]]).toEqual([0x11, base[512]]);
    expect(info.tree).toMatchObject({ id: 'overlay-2', role: 'decorator', removable: true });
    expect(info.layers.map((l) => l.name)).toEqual(['RAM diff layer', 'disk layer (vhd-fixed)']);
    // Reads while the second RAM diff was on top were attributed to that stack's layers, not these.
    expect(info.layers[0]!.servedSectors).toBe(2);
    await expectDiskError(stack.removeOverlay('n'), 'INVALID_INPUT');
    info = await stack.removeOverlay('overlay-1');
    expect(info.readOnly).toBe(true);
    expect((await stack.readSectors(0, 1)).data[0]).toBe(base[0]);
    await stack.close();
  });

  it('adds a RAM diff to a layered stack as one more layer, reporting per-layer attribution', async () => {
    const spec: DiskSpec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'blob', blob: sampleBlob(), name: 's.vhd' } }] };
    const stack = await LiveStack.open('s2', 'layered', spec, platform);
    await stack.runShell('write -P 0x33 0 1024');
    const info = await stack.addOverlay({ kind: 'ram-diff' });
    expect(info.layers.map((l) => l.name)).toEqual(['RAM diff layer', 'RAM layer', 'disk layer (vhd-fixed)']);
    await stack.runShell('write -P 0x44 0 512');
    const dump = await stack.readSectors(0, 4);
    expect([...dump.sourceLayer]).toEqual([0, 1, 2, 2]);
    expect(stack.info().layers.map((l) => l.servedSectors)).toEqual([1, 1, 2]);
    expect(stack.info().layers.map((l) => l.bytesPresent)).toEqual([512, 1024, SECTORS * 512]);
    await stack.close();
  });

  it('reports -2 sources for a stack with no layered disk, and refuses oversized requests', async () => {
    const stack = await LiveStack.open('s3', 'ram', { kind: 'ram', sectors: 16 }, platform);
    expect([...(await stack.readSectors(0, 2)).sourceLayer]).toEqual([-2, -2]);
    expect((await stack.occupancy({ buckets: 4 })).layers).toEqual([]);
    await expectDiskError(stack.readSectors(0, 1 << 20), 'INVALID_INPUT');
    await expectDiskError(stack.occupancy({ buckets: 0 }), 'INVALID_INPUT');
    await expectDiskError(stack.readSectors(16, 1), 'OUT_OF_RANGE');
    await expect(stack.addOverlay({ kind: 'delay', readUs: -1, writeUs: 0 })).rejects.toMatchObject({ problem: 'INVALID_PARAMETER', field: 'readUs' });
    await stack.close();
    await expectDiskError(stack.addOverlay({ kind: 'ram-diff' }), 'ABORTED');
  });

  it('injects faults from a fault overlay and clears them when it is removed', async () => {
    const stack = await LiveStack.open('s4', 'ram', { kind: 'ram', sectors: 16 }, platform);
    await stack.addOverlay({ kind: 'fault', rules: [{ op: 'read', sectors: { lba: 3, count: 1 }, code: 'MEDIUM_ERROR' }] });
    await expectDiskError(stack.readSectors(3, 1), 'MEDIUM_ERROR');
    await stack.removeOverlay('overlay-1');
    await stack.readSectors(3, 1);
    await stack.close();
  });
});

describe('SwitchableDisk', () => {
  it('switches only between operations: in-flight ones finish on the old target, new ones wait', async () => {
    const a = new RamDisk({ sectors: 8 });
    const b = new RamDisk({ sectors: 8 });
    let release!: () => void;
    const slowWrite = a.write.bind(a);
    a.write = async (lba, data) => {
      await new Promise<void>((r) => (release = r));
      return slowWrite(lba, data);
    };
    const s = new SwitchableDisk(a);
    const first = s.write(0, pattern(512, 1));
    await Promise.resolve();
    const switching = s.switchTo(b);
    const second = s.write(1, pattern(512, 2));
    let switched = false;
    void switching.then(() => (switched = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(switched).toBe(false);
    expect(s.target).toBe(a);
    release();
    await Promise.all([first, switching, second]);
    const buf = new Uint8Array(512);
    await a.read(0, buf);
    expectSameBytes(buf, pattern(512, 1));
    await b.read(1, buf);
    expectSameBytes(buf, pattern(512, 2));
    await a.read(1, buf);
    expectSameBytes(buf, new Uint8Array(512));
  });
});

describe('LiveStack with an image chain', () => {
  /** base.vhd (dynamic, all data) <- top.vhd (differencing, sectors 8-9), as Blobs. */
  async function chainBlobs() {
    const base = new MemoryImageFile('base.vhd');
    const expected = pattern(SECTORS * 512, 21);
    await new VhdDynamicDisk(await createVhdDynamic(base, SECTORS * 512, { blockSize: 4096 })).write(0, expected);
    const top = new MemoryImageFile('top.vhd');
    await createVhdDynamic(top, SECTORS * 512, { blockSize: 4096, parent: { file: base, name: 'base.vhd' } });
    const opened = await openVhdDynamic(top, { resolveParent: async () => base });
    if (opened.kind !== 'differencing') throw new Error('differencing expected');
    await opened.layer.write(8, pattern(1024, 22));
    expected.set(pattern(1024, 22), 8 * 512);
    const blob = (f: MemoryImageFile) => new Blob([f.bytes().slice().buffer as ArrayBuffer]);
    return { base: blob(base), top: blob(top), expected };
  }

  it('shows each chain file as a layer: tree, occupancy, source layer and attribution', async () => {
    const c = await chainBlobs();
    const spec: DiskSpec = {
      kind: 'layered',
      layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'blob', blob: c.top, name: 'top.vhd', parents: [{ blob: c.base, name: 'base.vhd' }] } }],
    };
    const stack = await LiveStack.open('s3', 'top.vhd', spec, platform);
    const info = stack.info();
    expect(info.layers.map((l) => l.file)).toEqual([undefined, 'top.vhd', 'base.vhd']);
    expect(info.layers.map((l) => l.bytesPresent)).toEqual([0, 1024, SECTORS * 512]); // the child holds exactly its 2 written sectors
    expect(info.tree.children.map((n) => n.file)).toEqual([undefined, 'top.vhd', 'base.vhd']);
    const occupancy = await stack.occupancy({ buckets: 8 });
    expect(occupancy.layers.map((l) => Array.from(l.map))).toEqual([[0, 0, 0, 0, 0, 0, 0, 0], [0, 0.25, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]]);
    const dump = await stack.readSectors(7, 4);
    expectSameBytes(dump.data, c.expected.subarray(7 * 512, 11 * 512), 'sectors 7-10');
    expect(Array.from(dump.sourceLayer)).toEqual([2, 1, 1, 2]);
    expect(stack.attribution().servedSectors).toEqual([0, 2, 2]);
    await stack.close();
  });

  it('reads the partition table of what the guest sees, overlays included', async () => {
    const stack = await LiveStack.open('s4', 'ram', { kind: 'ram', sectors: 2048 }, platform);
    expect((await stack.partitionTable()).scheme).toBe('none');
    const mbr = new Uint8Array(512);
    writeMbr(mbr, 512, 0, [{ status: 0x80, code: 0x83, start: 63, sectors: 1000 }], 0x1234);
    await stack.switchable.write(0, mbr);
    const table = await stack.partitionTable();
    expect(table.scheme).toBe('mbr');
    expect(table.partitions).toMatchObject([{ index: 1, startLba: 63, sectors: 1000, bootable: true, type: { kind: 'mbr', code: 0x83 } }]);
    expect(structuredClone(table)).toEqual(table); // it crosses the worker boundary as data
    await stack.close();
  });
});
