/**
 * Differencing VHDX (built by the test builder: qemu-img cannot make them): per-sector presence
 * from sector bitmaps, every block state, the BAT interleave across a chunk boundary, the
 * parent locator and parent identity.
 */
import { describe, expect, it } from 'vitest';
import { expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { VhdxLayer } from './disk.ts';
import { VhdxImage } from './image.ts';
import { openVhdx, openVhdxLayer } from './open.ts';
import { buildVhdx, memoryImageFile, type BuildBlock } from './testing/builder.ts';
import { seededRandom as rng } from '../../testing/seeded-random.ts';

const MiB = 1024 * 1024;
const PARENT_GUID = '0F0E0D0C-0B0A-0908-0706-050403020100';


interface Case {
  readonly ss: number;
  readonly virtualSize: number;
  /** Blocks to populate in parent and child. */
  readonly parentBlocks: readonly number[];
  readonly childBlocks: ReadonlyArray<readonly [number, number]>;
}

function makeChain(c: Case, seed: number) {
  const spb = MiB / c.ss;
  const r = rng(seed);
  const parentBlocks = new Map<number, BuildBlock>();
  const expected = new Map<number, Uint8Array>(); // block -> expected bytes (parent view first)
  for (const b of c.parentBlocks) {
    const data = pattern(MiB, seed * 1000 + b);
    parentBlocks.set(b, { state: 6, data });
    expected.set(b, data.slice());
  }
  const childBlocks = new Map<number, BuildBlock>();
  const present = new Map<number, Array<'data' | 'zero' | 'absent'>>();
  for (const [b, state] of c.childBlocks) {
    const data = pattern(MiB, seed * 2000 + b);
    const sectors: number[] = [];
    const states = new Array<'data' | 'zero' | 'absent'>(spb).fill('absent');
    if (state === 7) for (let s = 0; s < spb; s++) if (r() < 0.3 || (s > 5 && s < 12)) sectors.push(s);
    childBlocks.set(b, { state, data, presentSectors: sectors });
    const out = expected.get(b) ?? new Uint8Array(MiB);
    if (state === 6) {
      out.set(data);
      states.fill('data');
    } else if (state === 1 || state === 2 || state === 3) {
      out.fill(0);
      states.fill('zero');
    } else if (state === 7) {
      for (const s of sectors) {
        out.set(data.subarray(s * c.ss, (s + 1) * c.ss), s * c.ss);
        states[s] = 'data';
      }
    }
    expected.set(b, out);
    present.set(b, states);
  }
  const parent = buildVhdx({ virtualSize: c.virtualSize, logicalSectorSize: c.ss, blocks: parentBlocks, dataWriteGuid: PARENT_GUID });
  const child = buildVhdx({
    virtualSize: c.virtualSize,
    logicalSectorSize: c.ss,
    blocks: childBlocks,
    diskId: 'CAFEF00D-0000-1111-2222-333344445555',
    parent: new Map([
      ['parent_linkage', `{${PARENT_GUID}}`],
      ['relative_path', '.\\base.vhdx'],
      ['absolute_win32_path', 'C:\\vms\\base.vhdx'],
    ]),
  });
  return { parent, child, expected, present, spb };
}

const cases: Case[] = [
  { ss: 512, virtualSize: 6 * MiB + 512 * 3, parentBlocks: [0, 1, 2, 5], childBlocks: [[0, 7], [1, 6], [2, 2], [3, 7], [4, 3], [5, 1], [6, 7]] },
  { ss: 4096, virtualSize: 5 * MiB, parentBlocks: [0, 2, 4], childBlocks: [[0, 7], [1, 7], [2, 3], [4, 0]] },
  // 512-byte sectors, 1 MiB blocks: chunk ratio 4096, so blocks 4095 and 4096 use different sector bitmap blocks.
  { ss: 512, virtualSize: 4098 * MiB + 512, parentBlocks: [4095, 4097], childBlocks: [[4094, 6], [4095, 7], [4096, 7], [4097, 7], [4098, 7]] },
];

describe('differencing VHDX', () => {
  for (const [i, c] of cases.entries()) {
    it(`reads the chain sector by sector (case ${i}: ${c.ss}-byte sectors, ${c.virtualSize} bytes)`, async () => {
      const { parent, child, expected, present, spb } = makeChain(c, i + 1);
      const resolved: string[] = [];
      const disk = await openVhdx(memoryImageFile(child.bytes, 'child.vhdx'), {
        resolveParent: async (locator) => {
          resolved.push(locator.entries.get('relative_path')!);
          return memoryImageFile(parent.bytes, 'base.vhdx');
        },
      });
      expect(resolved).toEqual(['.\\base.vhdx']);
      expect(disk.sectorSize).toBe(c.ss);
      expect(disk.readOnly).toBe(true);
      const buf = new Uint8Array(MiB);
      for (const b of new Set([...c.parentBlocks, ...c.childBlocks.map(([x]) => x)])) {
        const sectors = Math.min(spb, disk.sectorCount() - b * spb);
        await disk.read(b * spb, buf.subarray(0, sectors * c.ss));
        expectSameBytes(buf.subarray(0, sectors * c.ss), (expected.get(b) ?? new Uint8Array(MiB)).subarray(0, sectors * c.ss), `block ${b}`);
      }
      // Last sector of the disk, and an unaligned read spanning two blocks.
      const tail = new Uint8Array(c.ss);
      await disk.read(disk.sectorCount() - 1, tail);
      const lastBlock = Math.floor((disk.sectorCount() - 1) / spb);
      const inLast = (disk.sectorCount() - 1 - lastBlock * spb) * c.ss;
      expectSameBytes(tail, (expected.get(lastBlock) ?? new Uint8Array(MiB)).subarray(inLast, inLast + c.ss), 'last sector');
      const b0 = c.childBlocks[0]![0];
      const span = new Uint8Array(4 * c.ss);
      await disk.read(b0 * spb + spb - 2, span);
      const want = new Uint8Array(4 * c.ss);
      want.set((expected.get(b0) ?? new Uint8Array(MiB)).subarray(MiB - 2 * c.ss));
      want.set((expected.get(b0 + 1) ?? new Uint8Array(MiB)).subarray(0, 2 * c.ss), 2 * c.ss);
      expectSameBytes(span, want, 'span');
      await disk.close();

      // The child as a layer: presence per sector and bytesPresent.
      const piece = await openVhdxLayer(memoryImageFile(child.bytes, 'child.vhdx'));
      expect(piece.kind).toBe('differencing');
      if (piece.kind !== 'differencing') return;
      expect(piece.parentLocator.entries.get('absolute_win32_path')).toBe('C:\\vms\\base.vhdx');
      expect([...piece.layer.diskId]).toEqual([0x0d, 0xf0, 0xfe, 0xca, 0, 0, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55]);
      let dataSectors = 0;
      for (const [b, states] of present) {
        const runs = await piece.layer.presence(b * spb, Math.min(spb, piece.layer.sectorCount() - b * spb));
        const seen = new Array<string>(spb).fill('absent');
        for (const run of runs) for (let s = run.lba; s < run.lba + run.count; s++) seen[s - b * spb] = run.state;
        const limit = Math.min(spb, piece.layer.sectorCount() - b * spb);
        expect(seen.slice(0, limit)).toEqual(states.slice(0, limit));
        dataSectors += states.slice(0, limit).filter((s) => s === 'data').length;
      }
      expect(piece.layer.bytesPresent()).toBe(dataSectors * c.ss);
      const map = await piece.layer.occupancyMap(4);
      expect(map.length).toBe(4);
      expect(map.some((f) => f > 0)).toBe(true);
      await expectDiskError(piece.layer.write(0, new Uint8Array(c.ss)), 'READ_ONLY');
      await piece.layer.write(0, new Uint8Array(c.ss), { noOverwrite: true });
      await expectDiskError(piece.layer.unmap(0, 1, false), 'READ_ONLY');
      await expectDiskError(piece.layer.read(piece.layer.sectorCount(), new Uint8Array(c.ss), { mark() {} }), 'OUT_OF_RANGE');
    });
  }

  it('needs a resolver, checks the parent identity and the sector size', async () => {
    const { parent, child } = makeChain(cases[0]!, 9);
    const err = await expectDiskError(openVhdx(memoryImageFile(child.bytes)), 'UNSUPPORTED');
    expect(err.message).toContain('parent');
    const other = buildVhdx({ virtualSize: 6 * MiB + 1536, dataWriteGuid: '99999999-9999-9999-9999-999999999999' });
    const mismatch = await expectDiskError(openVhdx(memoryImageFile(child.bytes), { resolveParent: async () => memoryImageFile(other.bytes) }), 'CORRUPT_IMAGE');
    expect(mismatch.field).toBe('parent_linkage');
    const wrongSectors = buildVhdx({ virtualSize: 8 * MiB, logicalSectorSize: 4096, dataWriteGuid: PARENT_GUID });
    const ss = await expectDiskError(openVhdx(memoryImageFile(child.bytes), { resolveParent: async () => memoryImageFile(wrongSectors.bytes) }), 'CORRUPT_IMAGE');
    expect(ss.field).toBe('logicalSectorSize');
    expect((await openVhdx(memoryImageFile(child.bytes), { resolveParent: async () => memoryImageFile(parent.bytes) })).sectorCount()).toBe((6 * MiB + 1536) / 512);
  });

  it('follows a chain of two differencing disks and refuses a self-referencing loop', async () => {
    const { parent, child, expected } = makeChain(cases[0]!, 4);
    const childImage = await VhdxImage.open(memoryImageFile(child.bytes));
    const grandchild = buildVhdx({
      virtualSize: 6 * MiB + 1536,
      blocks: new Map([[5, { state: 7, data: pattern(MiB, 55), presentSectors: [0] }]]),
      dataWriteGuid: '12121212-3434-5656-7878-909090909090',
      parent: new Map([['parent_linkage', `{${'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE'}}`]]),
    });
    expect(childImage.header.dataWriteGuid.length).toBe(16);
    const files = [child.bytes, parent.bytes];
    const disk = await openVhdx(memoryImageFile(grandchild.bytes), { resolveParent: async () => memoryImageFile(files.shift()!) });
    const buf = new Uint8Array(1024);
    await disk.read(5 * 2048, buf);
    expectSameBytes(buf.subarray(0, 512), pattern(MiB, 55).subarray(0, 512), 'grandchild sector');
    expectSameBytes(buf.subarray(512), expected.get(5)!.subarray(512, 1024), 'from below');
    expect(await VhdxLayer.create(childImage)).toBeDefined();
    // A disk whose parent is itself: the depth cap stops it.
    const loop = buildVhdx({ virtualSize: MiB, parent: new Map([['parent_linkage', '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}']]) });
    const e = await expectDiskError(openVhdx(memoryImageFile(loop.bytes), { resolveParent: async () => memoryImageFile(loop.bytes) }), 'CORRUPT_IMAGE');
    expect(e.field).toBe('parent_linkage');
  });
});
