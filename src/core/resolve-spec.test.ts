import { describe, expect, it } from 'vitest';
import { resolveDisk, resolveSpec, type ResolvedNode } from './resolve-spec.ts';
import { DiskConfigError } from './disk/errors.ts';
import { expectDiskError, expectSameBytes, pattern } from './testing/disk-conformance.ts';
import { memorySpecPlatform } from './testing/memory-spec-platform.ts';
import { fixedFooterFor } from './formats/vhd/fixed.ts';
import { serializeVhdFooter } from './formats/vhd/footer.ts';
import { LayeredDisk } from './layered/layered-disk.ts';
import type { DiskSpec } from './spec.ts';

/** OPFS as a map of paths; a path in `locked` fails as a second tab's handle would. */
const fakePlatform = (files: Record<string, Uint8Array>, locked: string[] = []) => memorySpecPlatform({ files, locked });

function fixedVhd(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 512);
  out.set(data);
  out.set(serializeVhdFooter(fixedFooterFor(data.length, { now: 0 })), data.length);
  return out;
}

function shape(node: ResolvedNode): unknown {
  return { id: node.id, role: node.role, children: node.children.map(shape) };
}

describe('resolveSpec', () => {
  it('builds a RAM disk of the asked size', async () => {
    const disk = await resolveDisk({ kind: 'ram', sectors: 64, sectorSize: 4096 }, fakePlatform({}).platform);
    expect([disk.sectorCount(), disk.sectorSize, disk.readOnly]).toEqual([64, 4096, false]);
  });

  it('puts a RAM diff over a read-only Blob: writes land in RAM, the Blob is never written', async () => {
    const base = pattern(16 * 512, 4);
    const blob = new Blob([fixedVhd(base)]);
    const { platform, sources } = fakePlatform({});
    const spec: DiskSpec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'blob', blob, name: 'sample.vhd' } }] };
    const { disk, root } = await resolveSpec(spec, platform);
    expect(shape(root)).toEqual({
      id: 'n', role: 'layered',
      children: [{ id: 'n.0', role: 'layer', children: [] }, { id: 'n.1', role: 'layer', children: [{ id: 'n.1.0', role: 'format', children: [] }] }],
    });
    expect(root.children[1]!.label).toBe('disk layer (vhd-fixed)');
    expect(disk.sectorCount()).toBe(16);
    expect(disk.readOnly).toBe(false);
    await disk.write(3, pattern(512, 9));
    const back = new Uint8Array(16 * 512);
    await disk.read(0, back);
    const expected = base.slice();
    expected.set(pattern(512, 9), 3 * 512);
    expectSameBytes(back, expected);
    expectSameBytes(new Uint8Array(await blob.arrayBuffer()).subarray(0, base.length), base);
    await disk.close();
    expect(sources).toEqual([{ name: 'sample.vhd', closed: true }]);
  });

  it('opens an OPFS fixed VHD writable by content detection, and writes reach the file before the footer', async () => {
    const files = { 'disklab/a.vhd': fixedVhd(new Uint8Array(8 * 512)) };
    const { platform, opened } = fakePlatform(files);
    const { disk, root } = await resolveSpec({ kind: 'opfs', path: 'disklab/a.vhd' }, platform);
    expect(root.role).toBe('format');
    expect(root.label).toContain('fixed VHD');
    expect(disk.diskType).toBe('vhd-fixed');
    expect(opened[0]!.readOnly).toBe(false);
    await disk.write(7, pattern(512, 2));
    expectSameBytes(opened[0]!.file.bytes.subarray(7 * 512, 8 * 512), pattern(512, 2));
    await expectDiskError(disk.read(8, new Uint8Array(512)), 'OUT_OF_RANGE');
  });

  it('opens an OPFS image read-only when asked, and passes LOCKED through', async () => {
    const { platform, opened } = fakePlatform({ 'a.img': new Uint8Array(4096) }, ['b.img']);
    const disk = await resolveDisk({ kind: 'opfs', path: 'a.img', readOnly: true }, platform);
    expect(disk.readOnly).toBe(true);
    expect(opened[0]!.readOnly).toBe(true);
    await expectDiskError(disk.write(0, new Uint8Array(512)), 'READ_ONLY');
    const locked = await expectDiskError(resolveDisk({ kind: 'opfs', path: 'b.img' }, platform), 'LOCKED');
    expect(locked.message).toContain('open elsewhere');
  });

  it('closes everything it opened when a later part of the spec fails', async () => {
    const { platform, opened } = fakePlatform({ 'a.img': new Uint8Array(4096) }, ['b.img']);
    const striped: DiskSpec = { kind: 'striped', members: [{ kind: 'opfs', path: 'a.img' }, { kind: 'opfs', path: 'b.img' }] };
    await expectDiskError(resolveDisk(striped, platform), 'LOCKED');
    expect(opened.map((o) => [o.path, o.file.closed])).toEqual([['a.img', true]]);
  });

  it('closes the files of a stack LayeredDisk rejects, and reports the layer at fault', async () => {
    const { platform, opened } = fakePlatform({ 'a.img': new Uint8Array(4096) });
    const spec: DiskSpec = {
      kind: 'layered',
      layers: [{ kind: 'ram-layer', writeThrough: true }, { kind: 'disk-layer', disk: { kind: 'opfs', path: 'a.img', readOnly: true } }],
    };
    const error = await resolveDisk(spec, platform).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskConfigError);
    expect((error as DiskConfigError).problem).toBe('READ_ONLY_IN_WRITE_PATH');
    expect((error as DiskConfigError).layerIndex).toBe(1);
    await Promise.resolve();
    expect(opened[0]!.file.closed).toBe(true);
  });

  it('refuses a layered spec with nothing to size its RAM layers, and unknown kinds', async () => {
    const { platform } = fakePlatform({});
    await expect(resolveDisk({ kind: 'layered', layers: [{ kind: 'ram-layer' }] }, platform)).rejects.toMatchObject({ problem: 'INVALID_PARAMETER', field: 'layers', layerIndex: 0 });
    await expect(resolveDisk({ kind: 'tape' } as unknown as DiskSpec, platform)).rejects.toMatchObject({ problem: 'INVALID_PARAMETER', field: 'kind', value: 'tape' });
  });

  it('resolves decorators over their inner specs, inner first', async () => {
    const { platform } = fakePlatform({});
    const spec: DiskSpec = {
      kind: 'metered',
      inner: { kind: 'delay', readUs: 0, inner: { kind: 'fault', rules: [{ op: 'read', sectors: { lba: 5, count: 1 }, code: 'MEDIUM_ERROR' }], inner: { kind: 'ram', sectors: 32 } } },
    };
    const { disk, root } = await resolveSpec(spec, platform);
    expect(shape(root)).toEqual({
      id: 'n', role: 'decorator',
      children: [{ id: 'n.0', role: 'decorator', children: [{ id: 'n.0.0', role: 'decorator', children: [{ id: 'n.0.0.0', role: 'backend', children: [] }] }] }],
    });
    await disk.read(4, new Uint8Array(512));
    const fault = await expectDiskError(disk.read(5, new Uint8Array(512)), 'MEDIUM_ERROR');
    expect(fault.lba).toBe(5);
  });

  it('stripes over resolved members and exposes a LayeredDisk as the root of a layered spec', async () => {
    const { platform } = fakePlatform({});
    const disk = await resolveDisk({ kind: 'striped', chunkSectors: 8, members: [{ kind: 'ram', sectors: 64 }, { kind: 'ram', sectors: 64 }] }, platform);
    expect(disk.sectorCount()).toBe(128);
    const { root } = await resolveSpec({ kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: 10 } }] }, platform);
    expect(root.disk).toBeInstanceOf(LayeredDisk);
  });
});
