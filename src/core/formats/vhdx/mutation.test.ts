/**
 * Hostile images: ~1500 seeded mutations of the headers, region table, metadata, BAT, sector
 * bitmap and log of small VHDX images (dynamic, differencing, 4096-byte sectors, with a log).
 * Checksums are often recomputed after the damage, so the parsers behind the CRC checks are
 * exercised too. Every case must open and read successfully or fail with a DiskError: never
 * another exception, hang or giant allocation.
 */
import { describe, expect, it } from 'vitest';
import { DiskError } from '../../disk/errors.ts';
import { pattern } from '../../testing/disk-conformance.ts';
import { crc32c } from '../../checksum/crc32c.ts';
import { openVhdxLayer } from './open.ts';
import { buildVhdx, memoryImageFile, type BuiltVhdx } from './testing/builder.ts';
import { seededRandom as rng } from '../../testing/seeded-random.ts';

const MiB = 1024 * 1024;


function seeds(): Array<{ name: string; built: BuiltVhdx }> {
  const dynamic = buildVhdx({
    virtualSize: 3 * MiB + 1536,
    blocks: new Map([
      [0, { state: 6, data: pattern(MiB, 1) }],
      [1, { state: 2 }],
      [2, { state: 3 }],
    ]),
  });
  const diff = buildVhdx({
    virtualSize: 4 * MiB,
    logicalSectorSize: 4096,
    blocks: new Map([
      [0, { state: 7, data: pattern(MiB, 2), presentSectors: [0, 3, 4, 5, 200] }],
      [1, { state: 6, data: pattern(MiB, 3) }],
      [3, { state: 1 }],
    ]),
    parent: new Map([
      ['parent_linkage', '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}'],
      ['relative_path', 'base.vhdx'],
    ]),
  });
  const logGuid = '5A5A5A5A-1234-5678-9ABC-DEF012345678';
  const logged = buildVhdx({
    virtualSize: 2 * MiB,
    blocks: new Map([[1, { state: 6, data: pattern(MiB, 4) }]]),
    logGuid,
    log: [
      {
        sequence: 5n,
        position: 0,
        tail: 0,
        descriptors: [
          { kind: 'data', fileOffset: 4 * MiB + 4096, page: pattern(4096, 5) },
          { kind: 'zero', fileOffset: 5 * MiB, length: 8192 },
        ],
        flushedFileOffset: 4 * MiB,
        lastFileOffset: 6 * MiB,
      },
    ],
  });
  return [
    { name: 'dynamic', built: dynamic },
    { name: 'differencing-4k', built: diff },
    { name: 'logged', built: logged },
  ];
}

type Patch = { offset: number; old: Uint8Array };

function put(bytes: Uint8Array, patches: Patch[], offset: number, data: Uint8Array): void {
  if (offset < 0 || offset + data.length > bytes.length) return;
  patches.push({ offset, old: bytes.slice(offset, offset + data.length) });
  bytes.set(data, offset);
}

function resealAt(bytes: Uint8Array, patches: Patch[], start: number, length: number): void {
  if (start + length > bytes.length) return;
  const area = bytes.slice(start, start + length);
  new DataView(area.buffer).setUint32(4, 0, true);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, crc32c(area), true);
  put(bytes, patches, start + 4, crc);
}

function mutate(built: BuiltVhdx, r: () => number): Patch[] {
  const bytes = built.bytes;
  const patches: Patch[] = [];
  const areas: Array<[number, number]> = [
    [0, 16],
    [64 * 1024, 128],
    [128 * 1024, 128],
    [192 * 1024, 128],
    [256 * 1024, 128],
    [built.metadataOffset, 256],
    [built.metadataOffset + 64 * 1024, 512],
    [built.batOffset, 64],
    [built.logOffset, 4096 * 3],
    [bytes.length - MiB, 256],
  ];
  const mutations = 1 + Math.floor(r() * 3);
  for (let m = 0; m < mutations; m++) {
    const [start, len] = areas[Math.floor(r() * areas.length)]!;
    const at = start + Math.floor(r() * len);
    const kind = r();
    if (kind < 0.35) {
      put(bytes, patches, at, new Uint8Array([Math.floor(r() * 256)]));
    } else if (kind < 0.6) {
      put(bytes, patches, at, new Uint8Array([(bytes[at] ?? 0) ^ (1 << Math.floor(r() * 8))]));
    } else {
      const values = [0, 1, 0xffffffff, 0x80000000, 4096, MiB, 0x7fffffff, Math.floor(r() * 2 ** 32)];
      const v = new Uint8Array(r() < 0.5 ? 4 : 8);
      const dv = new DataView(v.buffer);
      dv.setUint32(0, values[Math.floor(r() * values.length)]!, true);
      if (v.length === 8) dv.setUint32(4, r() < 0.5 ? 0 : Math.floor(r() * 2 ** 32), true);
      put(bytes, patches, at - (at % 4), v);
    }
  }
  if (r() < 0.75) {
    resealAt(bytes, patches, 64 * 1024, 4096);
    resealAt(bytes, patches, 128 * 1024, 4096);
    resealAt(bytes, patches, 192 * 1024, 64 * 1024);
    resealAt(bytes, patches, 256 * 1024, 64 * 1024);
    const entryLength = new DataView(bytes.buffer).getUint32(built.logOffset + 8, true);
    if (entryLength >= 4096 && entryLength <= MiB) resealAt(bytes, patches, built.logOffset, entryLength);
  }
  return patches;
}

async function exercise(bytes: Uint8Array): Promise<void> {
  const piece = await openVhdxLayer(memoryImageFile(bytes));
  const ss = piece.image.metadata.logicalSectorSize;
  const sectors = piece.image.sectorCount;
  const head = Math.min(sectors, (4 * MiB) / ss);
  const buf = new Uint8Array(head * ss);
  if (piece.kind === 'disk') {
    await piece.disk.read(0, buf);
    await piece.disk.read(sectors - 1, new Uint8Array(ss));
  } else {
    await piece.layer.read(0, buf, { mark() {} });
    await piece.layer.presence(0, Math.min(sectors, 1 << 24));
    await piece.layer.occupancyMap(8);
  }
}

describe('VHDX mutation corpus', () => {
  for (const { name, built } of seeds()) {
    it(`${name}: 500 mutations give a DiskError or a readable disk`, async () => {
      await exercise(built.bytes); // the seed itself is valid
      const r = rng(name.length * 7919 + 17);
      const outcomes = { ok: 0, error: 0 };
      for (let i = 0; i < 500; i++) {
        const patches = mutate(built, r);
        try {
          await exercise(built.bytes);
          outcomes.ok++;
        } catch (e) {
          if (!(e instanceof DiskError)) throw new Error(`case ${i}: non-DiskError ${String(e)}`, { cause: e });
          expect(['CORRUPT_IMAGE', 'UNSUPPORTED', 'OUT_OF_RANGE']).toContain(e.code);
          outcomes.error++;
        } finally {
          for (const p of patches.reverse()) built.bytes.set(p.old, p.offset);
        }
      }
      // Both outcomes must occur, or the corpus is not reaching past the checksums.
      expect(outcomes.ok).toBeGreaterThan(20);
      expect(outcomes.error).toBeGreaterThan(20);
    }, 60_000);
  }
});
