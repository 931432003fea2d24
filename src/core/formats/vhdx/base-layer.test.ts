/**
 * A VHDX without a parent as the base of a differencing chain reports the blocks it holds
 * (FULLY_PRESENT as data, ZERO/UNMAPPED/UNDEFINED as zero records, NOT_PRESENT absent) instead of
 * the whole disk, while the chain reads exactly as it did over a whole-disk base.
 */
import { describe, expect, it } from 'vitest';
import { DiskLayer } from '../../layered/disk-layer.ts';
import type { PresenceRun } from '../../layered/layer.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import { SparseDiskLayer } from '../../layered/sparse-disk-layer.ts';
import { expectDiskError, expectSameBytes, pattern } from '../../testing/disk-conformance.ts';
import { seededRandom } from '../../testing/seeded-random.ts';
import { vhdxBaseLayer } from './base-layer.ts';
import { VhdxDisk, VhdxLayer } from './disk.ts';
import { VhdxImage } from './image.ts';
import { openVhdx } from './open.ts';
import { buildVhdx, memoryImageFile, type BuildBlock } from './testing/builder.ts';

const MiB = 1024 * 1024;
const PARENT_GUID = '0F0E0D0C-0B0A-0908-0706-050403020100';

for (const ss of [512, 4096]) {
  describe(`VHDX base layer (${ss}-byte sectors)`, () => {
    const spb = MiB / ss;
    const virtualSize = 8 * MiB - 2 * ss; // the last block is short
    const sectors = virtualSize / ss;
    // Base block states: data, zero record, absent, unmapped, data, undefined, absent, data (short).
    const baseStates = [6, 2, 0, 3, 6, 1, 0, 6];
    const baseBlocks = new Map<number, BuildBlock>(baseStates.map((state, b) => [b, { state, data: pattern(MiB, 100 + b) }]));
    const childBlocks = new Map<number, BuildBlock>([
      [0, { state: 7, data: pattern(MiB, 200), presentSectors: [1, 2, 3] }],
      [2, { state: 6, data: pattern(MiB, 202) }],
    ]);
    const make = () => {
      const base = buildVhdx({ virtualSize, logicalSectorSize: ss, blocks: baseBlocks, dataWriteGuid: PARENT_GUID });
      const child = buildVhdx({ virtualSize, logicalSectorSize: ss, blocks: childBlocks, parent: new Map([['parent_linkage', `{${PARENT_GUID}}`], ['relative_path', 'base.vhdx']]) });
      return { base, child };
    };
    const open = async () => {
      const { base, child } = make();
      return openVhdx(memoryImageFile(child.bytes, 'child.vhdx'), { resolveParent: async () => memoryImageFile(base.bytes, 'base.vhdx') }) as Promise<LayeredDisk>;
    };

    it('reports the base blocks by state, and bytesPresent as the data blocks', async () => {
      const disk = await open();
      const base = disk.layerInfo()[1]!.layer;
      expect(base).toBeInstanceOf(SparseDiskLayer);
      expect(base.layerType).toBe('disk:vhdx');
      expect((base as SparseDiskLayer).disk).toBeInstanceOf(VhdxDisk);
      const expected: PresenceRun[] = [];
      for (const [b, state] of baseStates.entries()) {
        const count = Math.min(spb, sectors - b * spb);
        const kind = state === 6 ? 'data' : state === 0 ? undefined : 'zero';
        if (kind) expected.push({ lba: b * spb, count, state: kind });
      }
      // Neighbouring blocks of one state merge: blocks 0 (data) 1 (zero) | 3 (zero) 4 (data) 5 (zero) | 7 (data).
      expect(await disk.presence(1, 0, sectors)).toEqual(expected);
      expect(base.bytesPresent()).toBe((3 * spb - 2) * ss);
      expect(Array.from(await disk.occupancyMap(1, 7, 0, 7 * spb))).toEqual([1, 1, 0, 1, 1, 1, 0]);
      expect(await disk.presence(1, spb - 4, 8)).toEqual([{ lba: spb - 4, count: 4, state: 'data' }, { lba: spb, count: 4, state: 'zero' }]);
      await disk.close();
    });

    it('reads the chain as it did over a whole-disk base, byte for byte', async () => {
      const disk = await open();
      const { base, child } = make();
      const old = new LayeredDisk([
        { layer: await VhdxLayer.create(await VhdxImage.open(memoryImageFile(child.bytes, 'child.vhdx'))) },
        { layer: new DiskLayer(new VhdxDisk(await VhdxImage.open(memoryImageFile(base.bytes, 'base.vhdx')))) },
      ]);
      const r = seededRandom(ss);
      for (let i = 0; i < 120; i++) {
        const lba = Math.floor(r() * sectors);
        const n = 1 + Math.floor(r() * Math.min(3 * spb, sectors - lba));
        const a = new Uint8Array(n * ss).fill(1);
        const b = new Uint8Array(n * ss).fill(2);
        await disk.read(lba, a);
        await old.read(lba, b);
        expectSameBytes(a, b, `read ${lba}+${n}`);
      }
      // Block 2 is absent in the base and present in the child; block 6 is absent in both.
      disk.resetReadStats();
      await disk.read(6 * spb, new Uint8Array(spb * ss));
      expect(disk.readStats().zeroFilledSectors).toBe(spb);
      expect(disk.readStats().servedSectors).toEqual([0, 0]);
      await disk.close();
      await old.close();
    });

    it('is read-only, and refuses an image with a parent', async () => {
      const disk = await open();
      const base = disk.layerInfo()[1]!.layer;
      await expectDiskError(base.write(0, new Uint8Array(ss)), 'READ_ONLY');
      await base.write(2 * spb, new Uint8Array(ss), { noOverwrite: true }); // a cache fill: ignored
      expect(await base.presence(2 * spb, 1)).toEqual([]);
      await disk.close();
      const child = await VhdxImage.open(memoryImageFile(make().child.bytes, 'child.vhdx'));
      await expectDiskError(vhdxBaseLayer(child), 'INVALID_INPUT');
    });
  });
}
