import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileDisk } from '../backends/file-disk.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import { VhdDynamicDisk } from '../formats/vhd/dynamic-disk.ts';
import { MemoryImageFile } from '../formats/vhd/memory-image-file.ts';
import { VhdSparseImage } from '../formats/vhd/sparse-image.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { RamLayer } from '../layered/ram-layer.ts';
import { CrashSimSyncFile } from '../testing/crash-sim-sync-file.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { readWhole } from '../testing/job-workload.ts';
import { stackAllocation } from './allocation.ts';
import { convertJob, ExportJob, streamSink, syncFileSink, type ByteSink } from './export-job.ts';
import { TrackedDisk } from './tracked-disk.ts';
import { createFullVhdTarget } from './vhd-backup-target.ts';

const SECTORS = 4096;
const SS = 512;

interface Op {
  readonly layer: 0 | 1;
  readonly kind: 'write' | 'zero' | 'drop' | 'zeroes';
  readonly lba: number;
  readonly count: number;
  readonly seed: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  layer: fc.constantFrom<0 | 1>(0, 1),
  kind: fc.constantFrom<Op['kind']>('write', 'write', 'zero', 'drop', 'zeroes'),
  lba: fc.integer({ min: 0, max: SECTORS - 1 }),
  count: fc.integer({ min: 1, max: 200 }),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

async function sparseStack(ops: readonly Op[]): Promise<LayeredDisk> {
  const layers = [new RamLayer({ sectors: SECTORS, chunkBytes: 4096 }), new RamLayer({ sectors: SECTORS })];
  for (const op of ops) {
    const layer = layers[op.layer]!;
    const count = Math.min(op.count, SECTORS - op.lba);
    if (op.kind === 'write') await layer.write(op.lba, pattern(count * SS, op.seed));
    else if (op.kind === 'zeroes') await layer.write(op.lba, new Uint8Array(count * SS)); // data that happens to be zero
    else await layer.unmap(op.lba, count, op.kind === 'drop');
  }
  return new LayeredDisk(layers.map((layer) => ({ layer })));
}

/** Non-zero 4 KiB blocks of `bytes` within the allocated runs: what a sparse export must write. */
function expectedWrites(bytes: Uint8Array, runs: readonly { lba: number; count: number }[]): number {
  let total = 0;
  for (const r of runs) {
    for (let at = r.lba * SS; at < (r.lba + r.count) * SS; at += 4096) {
      const end = Math.min(at + 4096, (r.lba + r.count) * SS);
      if (bytes.subarray(at, end).some((b) => b !== 0)) total += end - at;
    }
  }
  return total;
}

describe('ExportJob', () => {
  it('exports a sparse stack to a raw file that reads identically, writing only allocated non-zero data', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 25 }), fc.integer({ min: 1, max: 64 }), async (ops, chunks) => {
        const stack = await sparseStack(ops);
        const expected = await readWhole(stack);
        const file = new CrashSimSyncFile();
        const job = new ExportJob({ source: openDisk(stack), sink: syncFileSink(file), chunkBytes: chunks * 4096 });
        const result = await job.start();
        expectSameBytes(file.contents(), expected);
        expect(result.sizeBytes).toBe(SECTORS * SS);
        const runs = await stackAllocation(stack)(0, SECTORS);
        expect(result.bytesWritten).toBe(expectedWrites(expected, runs));
        expect(job.progress().bytesTotal).toBe(runs.reduce((n, r) => n + r.count, 0) * SS);
      }),
      { numRuns: 80 },
    );
  });

  it('streams a sparse stack in order, holes as bounded zero pieces, to the same bytes', async () => {
    const stack = await sparseStack([
      { layer: 1, kind: 'write', lba: 100, count: 300, seed: 1 },
      { layer: 0, kind: 'write', lba: 2000, count: 10, seed: 2 },
      { layer: 0, kind: 'zero', lba: 150, count: 20, seed: 0 },
    ]);
    const parts: Uint8Array[] = [];
    await new ExportJob({ source: stack, sink: streamSink(async (bytes) => void parts.push(bytes.slice()), 64 * 1024), chunkBytes: 32 * 1024 }).start();
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThanOrEqual(64 * 1024);
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      at += p.length;
    }
    expectSameBytes(joined, await readWhole(stack));
    const sink = streamSink(async () => undefined);
    await sink.write(1024, new Uint8Array(512));
    await expectDiskError(sink.write(0, new Uint8Array(512)), 'INVALID_INPUT');
  });

  it('keeps at most one chunk in flight: the sink never sees a write larger than a chunk', async () => {
    const source = new RamDisk({ sectors: SECTORS });
    await source.write(0, pattern(SECTORS * SS, 3));
    let largest = 0;
    const sink: ByteSink = {
      write: async (_offset, data) => void (largest = Math.max(largest, data.length)),
      finish: async () => undefined,
    };
    await new ExportJob({ source, sink, chunkBytes: 64 * 1024 }).start();
    expect(largest).toBe(64 * 1024);
  });

  it('converts a stack into a new dynamic VHD that reads identically and stays sparse', async () => {
    const base = new RamDisk({ sectors: SECTORS });
    await base.write(0, pattern(64 * SS, 1));
    const top = new RamLayer({ sectors: SECTORS });
    await top.write(3000, pattern(100 * SS, 2));
    await top.unmap(10, 20, false);
    const stack = new TrackedDisk(openDisk(new LayeredDisk([{ layer: top }, { layer: new DiskLayer(base) }])));
    const file = new MemoryImageFile('out.vhd');
    const vhd = await createFullVhdTarget(file, SECTORS * SS, { blockSize: 64 * 1024 });
    const job = convertJob(stack, vhd);
    expect(job.kind).toBe('convert');
    await job.start();
    const reopened = new VhdDynamicDisk(await VhdSparseImage.open(file, { readOnly: true }));
    expectSameBytes(await readWhole(reopened), await readWhole(stack));
    // The base is a whole disk (all allocated), so zero blocks are skipped after reading: 2 blocks of data.
    expect(reopened.image.bytesPresent()).toBeLessThanOrEqual(2 * 64 * 1024);
    expect(() => convertJob(stack, new RamDisk({ sectors: 10 }))).toThrow(/sectors/);
  });

  it('fails with QUOTA from the sink and leaves the source unchanged', async () => {
    const stack = await sparseStack([{ layer: 0, kind: 'write', lba: 0, count: 2000, seed: 9 }]);
    const before = await readWhole(stack);
    const file = new CrashSimSyncFile();
    file.quotaBytes = 100_000;
    await expectDiskError(new ExportJob({ source: stack, sink: syncFileSink(file), chunkBytes: 32 * 1024 }).start(), 'QUOTA');
    expectSameBytes(await readWhole(stack), before);
    const target = new FileDisk(new CrashSimSyncFile(), { sectors: SECTORS });
    await convertJob(stack, target).start();
    expectSameBytes(await readWhole(target), before);
  });
});
