/**
 * Image chains through the resolver: a `blob` spec with `parents` (dropped files in any order),
 * parents matched by name, the chain's files as layers, a missing or wrong parent, and the
 * name matching itself (open-source.ts).
 */
import { describe, expect, it } from 'vitest';
import { DiskConfigError } from './disk/errors.ts';
import { matchParent, parentBaseName, probeParents } from './formats/open-source.ts';
import { createVhdDynamic } from './formats/vhd/create-dynamic.ts';
import { VhdDynamicDisk } from './formats/vhd/dynamic-disk.ts';
import { MemoryImageFile } from './formats/vhd/memory-image-file.ts';
import { openVhdDynamic } from './formats/vhd/open-dynamic.ts';
import { buildVhdx } from './formats/vhdx/testing/builder.ts';
import { isMissingParent, resolveSpec, type ResolvedNode, type SpecPlatform } from './resolve-spec.ts';
import type { DiskSpec, ParentFileSpec } from './spec.ts';
import { expectDiskError, expectSameBytes, pattern } from './testing/disk-conformance.ts';
import { memorySpecPlatform } from './testing/memory-spec-platform.ts';

const SIZE = 64 * 1024;

/** No OPFS images; Blob sources that record whether they were closed. */
function platform() {
  const { platform: p, sources } = memorySpecPlatform();
  return { platform: p, sources };
}

/** base.vhd (dynamic, full of data) <- mid.vhd (one sector) <- top.vhd (two sectors), as Blobs. */
async function vhdChain() {
  const base = new MemoryImageFile('base.vhd');
  const baseDisk = new VhdDynamicDisk(await createVhdDynamic(base, SIZE, { blockSize: 4096 }));
  const expected = pattern(SIZE, 7);
  await baseDisk.write(0, expected);
  const mid = new MemoryImageFile('mid.vhd');
  await createVhdDynamic(mid, SIZE, { blockSize: 4096, parent: { file: base, name: 'C:\\VMs\\Base.VHD' } });
  const midOpen = await openVhdDynamic(mid, { resolveParent: async () => base });
  if (midOpen.kind !== 'differencing') throw new Error('differencing expected');
  await midOpen.layer.write(3, pattern(512, 8));
  expected.set(pattern(512, 8), 3 * 512);
  const top = new MemoryImageFile('top.vhd');
  await createVhdDynamic(top, SIZE, { blockSize: 4096, parent: { file: mid, name: 'mid.vhd' } });
  const topOpen = await openVhdDynamic(top, { resolveParent: async (c) => (c.some((n) => n.includes('mid')) ? mid : base) });
  if (topOpen.kind !== 'differencing') throw new Error('differencing expected');
  await topOpen.layer.write(10, pattern(1024, 9));
  expected.set(pattern(1024, 9), 10 * 512);
  const blob = (f: MemoryImageFile) => new Blob([f.bytes().slice().buffer as ArrayBuffer]);
  return { base: blob(base), mid: blob(mid), top: blob(top), expected };
}

async function readAll(spec: DiskSpec, p: SpecPlatform): Promise<{ bytes: Uint8Array; root: ResolvedNode }> {
  const { disk, root } = await resolveSpec(spec, p);
  const bytes = new Uint8Array(disk.sectorCount() * disk.sectorSize);
  await disk.read(0, bytes);
  await disk.close();
  return { bytes, root };
}

describe('parent name matching', () => {
  it('takes the last path component, with either separator', () => {
    expect(parentBaseName('C:\\VMs\\Base.VHD')).toBe('Base.VHD');
    expect(parentBaseName('.\\base.vhd')).toBe('base.vhd');
    expect(parentBaseName('../images/base.qcow2')).toBe('base.qcow2');
    expect(parentBaseName('base.qcow2')).toBe('base.qcow2');
  });

  it('matches case-insensitively, best candidate first', () => {
    expect(matchParent(['.\\mid.vhd', 'C:\\x\\base.vhd'], ['BASE.VHD', 'Mid.vhd'])).toBe(1);
    expect(matchParent(['C:\\x\\gone.vhd', 'base.vhd'], ['other.vhd', 'base.VHD'])).toBe(1);
    expect(matchParent(['base.vhd'], ['base.vhdx', 'xbase.vhd'])).toBe(-1);
    expect(matchParent([], ['base.vhd'])).toBe(-1);
    expect(matchParent([''], [''])).toBe(-1);
  });
});

describe('blob chains', () => {
  it('opens a differencing VHD chain from parents given in any order, one layer per file', async () => {
    const c = await vhdChain();
    const { platform: p, sources } = platform();
    const parents: ParentFileSpec[] = [{ blob: c.base, name: 'base.vhd' }, { blob: c.mid, name: 'MID.VHD' }];
    const { bytes, root } = await readAll({ kind: 'blob', blob: c.top, name: 'top.vhd', parents }, p);
    expectSameBytes(bytes, c.expected, 'chain');
    expect(root.role).toBe('layered');
    expect(root.children.map((n) => (n.kind === 'layer' ? n.file : undefined))).toEqual(['top.vhd', 'MID.VHD', 'base.vhd']);
    expect(sources.every((s) => s.closed)).toBe(true);
  });

  it('puts the chain files into a layered spec as layers of their own', async () => {
    const c = await vhdChain();
    const { platform: p } = platform();
    const spec: DiskSpec = {
      kind: 'layered',
      layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'blob', blob: c.top, name: 'top.vhd', parents: [{ blob: c.mid, name: 'mid.vhd' }, { blob: c.base, name: 'base.vhd' }] } }],
    };
    const { disk, root } = await resolveSpec(spec, p);
    expect(root.children.map((n) => n.label)).toEqual(['RAM layer', 'top.vhd (vhd-differencing, child)', 'mid.vhd (vhd-differencing, parent)', 'base.vhd (disk:vhd-dynamic, base)']);
    const out = new Uint8Array(SIZE);
    await disk.write(0, pattern(512, 99));
    await disk.read(0, out);
    const expected = c.expected.slice();
    expected.set(pattern(512, 99), 0);
    expectSameBytes(out, expected, 'chain under a RAM diff');
    await disk.close();
  });

  it('names the missing parent in a DiskConfigError and closes what it opened', async () => {
    const c = await vhdChain();
    const { platform: p, sources } = platform();
    const err = await resolveSpec({ kind: 'blob', blob: c.top, name: 'top.vhd', parents: [{ blob: c.base, name: 'base.vhd' }] }, p).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DiskConfigError);
    const value = (err as DiskConfigError).value;
    expect(isMissingParent(value) && value).toMatchObject({ child: 'top.vhd', wanted: 'mid.vhd' });
    expect(sources.every((s) => s.closed)).toBe(true);
    // One level down: the child's parent is there, the grandparent is not.
    const deeper = await resolveSpec({ kind: 'blob', blob: c.top, name: 'top.vhd', parents: [{ blob: c.mid, name: 'mid.vhd' }] }, p).catch((e: unknown) => e);
    expect((deeper as DiskConfigError).value).toMatchObject({ kind: 'missing-parent', child: 'mid.vhd', wanted: 'Base.VHD' });
  });

  it('accepts a renamed parent picked for the name, and refuses a wrong one with CORRUPT_IMAGE', async () => {
    const c = await vhdChain();
    const { platform: p } = platform();
    const renamed: ParentFileSpec[] = [{ blob: c.mid, name: 'mid.vhd' }, { blob: c.base, name: 'copy of base.vhd', standsFor: 'Base.VHD' }];
    expectSameBytes((await readAll({ kind: 'blob', blob: c.top, name: 'top.vhd', parents: renamed }, p)).bytes, c.expected, 'renamed');
    const other = await vhdChain(); // same shape, different unique ids
    await expectDiskError(resolveSpec({ kind: 'blob', blob: c.top, name: 'top.vhd', parents: [{ blob: c.mid, name: 'mid.vhd' }, { blob: other.base, name: 'base.vhd' }] }, p), 'CORRUPT_IMAGE');
  });

  it('probes which parent an image names without opening it', async () => {
    const c = await vhdChain();
    const { platform: p, sources } = platform();
    const probe = await probeParents(p.blobSource(c.mid, 'mid.vhd'));
    expect(probe.format).toBe('vhd');
    expect(probe.parentCandidates.map(parentBaseName)).toContain('Base.VHD');
    expect(await probeParents(p.blobSource(c.base, 'base.vhd'))).toEqual({ format: 'vhd', parentCandidates: [] });
    expect(sources.every((s) => s.closed)).toBe(true);
  });

  it('opens a differencing VHDX from its relative parent path, and refuses a parent with another DataWriteGuid', async () => {
    const MiB = 1024 * 1024;
    const PARENT_GUID = '0F0E0D0C-0B0A-0908-0706-050403020100';
    const baseData = pattern(MiB, 31);
    const childData = pattern(MiB, 32);
    const base = buildVhdx({ virtualSize: 2 * MiB, blocks: new Map([[0, { state: 6, data: baseData }]]), dataWriteGuid: PARENT_GUID });
    const child = buildVhdx({
      virtualSize: 2 * MiB,
      blocks: new Map([[1, { state: 6, data: childData }]]),
      parent: new Map([['parent_linkage', `{${PARENT_GUID}}`], ['relative_path', '..\\disks\\Base.vhdx'], ['absolute_win32_path', 'C:\\vms\\elsewhere.vhdx']]),
    });
    const blob = (b: Uint8Array) => new Blob([b.slice().buffer as ArrayBuffer]);
    const { platform: p } = platform();
    const { bytes, root } = await readAll({ kind: 'blob', blob: blob(child.bytes), name: 'child.vhdx', parents: [{ blob: blob(base.bytes), name: 'base.VHDX' }] }, p);
    expectSameBytes(bytes.subarray(0, MiB), baseData, 'from the parent');
    expectSameBytes(bytes.subarray(MiB), childData, 'from the child');
    expect(root.children.map((n) => (n.kind === 'layer' ? n.file : undefined))).toEqual(['child.vhdx', 'base.VHDX']);
    const stranger = buildVhdx({ virtualSize: 2 * MiB, dataWriteGuid: '11111111-2222-3333-4444-555555555555' });
    await expectDiskError(resolveSpec({ kind: 'blob', blob: blob(child.bytes), name: 'child.vhdx', parents: [{ blob: blob(stranger.bytes), name: 'base.vhdx' }] }, p), 'CORRUPT_IMAGE');
  });
});
