// Seeded mutation test: damaged footers, dynamic headers, BATs, parent locators and bitmaps must
// give a typed DiskError or data, never another exception, a hang or a giant allocation.
import { describe, expect, it } from 'vitest';
import { DiskError } from '../../disk/errors.ts';
import { pattern } from '../../testing/disk-conformance.ts';
import { dynamicHeaderChecksum } from './dynamic-header.ts';
import { createVhdDynamic } from './create-dynamic.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from './dynamic-disk.ts';
import { vhdChecksum } from './footer.ts';
import { MemoryImageFile } from './memory-image-file.ts';
import { openVhdDynamic } from './open-dynamic.ts';
import { seededRandom as rng } from '../../testing/seeded-random.ts';

const SIZE = 64 * 1024;

async function pristine(): Promise<{ parent: Uint8Array; child: Uint8Array; expected: Uint8Array }> {
  const parentFile = new MemoryImageFile('parent.vhd');
  const parent = new VhdDynamicDisk(await createVhdDynamic(parentFile, SIZE, { blockSize: 4096 }));
  const expected = new Uint8Array(SIZE);
  for (const [lba, n, seed] of [[0, 3, 1], [7, 2, 2], [40, 16, 3], [127, 1, 4]] as const) {
    await parent.write(lba, pattern(n * 512, seed));
    expected.set(pattern(n * 512, seed), lba * 512);
  }
  const childFile = new MemoryImageFile('child.vhd');
  const child = new VhdDifferencingLayer(await createVhdDynamic(childFile, SIZE, { blockSize: 4096, parent: { file: parentFile, name: 'parent.vhd' } }));
  for (const [lba, n, seed] of [[1, 1, 5], [9, 9, 6], [100, 4, 7]] as const) {
    await child.write(lba, pattern(n * 512, seed));
    expected.set(pattern(n * 512, seed), lba * 512);
  }
  return { parent: parentFile.bytes(), child: childFile.bytes(), expected };
}


/** Re-seals footers and header so a mutation reaches the fields behind the checksums. */
function reseal(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const at of [0, bytes.length - 512]) view.setUint32(at + 64, vhdChecksum(bytes.subarray(at, at + 512)));
  view.setUint32(512 + 36, dynamicHeaderChecksum(bytes.subarray(512, 1536)));
}

/** Offsets worth hitting: footers, the interesting header words, BAT, locator data, bitmaps. */
function targets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < 96; i++) out.push(i, bytes.length - 512 + i);
  for (let i = 512; i < 512 + 1024; i++) if (i < 512 + 64 || (i >= 512 + 576 && i < 512 + 768) || i % 37 === 0) out.push(i);
  for (let i = 1536; i < 2560; i++) out.push(i); // BAT and the first locator's data
  for (let i = 2560; i < bytes.length - 512; i += 4096 + 512) for (let j = 0; j < 4; j++) out.push(i + j);
  return out;
}

async function exercise(child: Uint8Array, parent: Uint8Array, writable: boolean): Promise<Uint8Array | undefined> {
  const opened = await openVhdDynamic(new MemoryImageFile('child.vhd', child, writable), {
    readOnly: !writable,
    resolveParent: async () => new MemoryImageFile('parent.vhd', parent, false),
  });
  const disk = opened.kind === 'dynamic' ? opened.disk : opened.disk!;
  const sectors = disk.sectorCount();
  const n = Math.min(sectors, SIZE / 512);
  const out = new Uint8Array(n * 512);
  await disk.read(0, out);
  if (sectors > n) await disk.read(sectors - 1, new Uint8Array(512));
  if (opened.kind === 'differencing') await opened.layer.presence(0, n);
  if (writable && sectors > 0) await disk.write(Math.min(sectors - 1, 33), pattern(512, 99));
  await disk.close();
  return n === SIZE / 512 ? out : undefined;
}

describe('dynamic/differencing VHD under mutation', () => {
  it('reads the pristine chain correctly (the oracle for unharmful mutations)', async () => {
    const { parent, child, expected } = await pristine();
    expect(await exercise(child, parent, false)).toEqual(expected);
  });

  it('gives a DiskError or data for 1500 seeded mutations of child and parent', async () => {
    const { parent, child, expected } = await pristine();
    const childTargets = targets(child);
    const parentTargets = targets(parent);
    let errors = 0;
    let exact = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const next = rng(seed);
      const c = child.slice();
      const p = parent.slice();
      const victim = next() < 0.75 ? c : p;
      const pool = victim === c ? childTargets : parentTargets;
      const hits = 1 + Math.floor(next() * 4);
      for (let h = 0; h < hits; h++) {
        const at = pool[Math.floor(next() * pool.length)]!;
        victim[at] = next() < 0.3 ? 0xff : Math.floor(next() * 256);
      }
      if (next() < 0.6) reseal(victim);
      try {
        const out = await exercise(c, p, next() < 0.5);
        if (out && out.every((b, i) => b === expected[i])) exact++;
      } catch (e) {
        if (!(e instanceof DiskError)) throw new Error(`seed ${seed}: ${String(e)}`, { cause: e });
        errors++;
      }
    }
    // Both outcomes must actually occur, or the mutator is not reaching the parser.
    expect(errors).toBeGreaterThan(100);
    expect(exact).toBeGreaterThan(50);
  });
});
