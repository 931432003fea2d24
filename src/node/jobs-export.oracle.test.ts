/**
 * Oracle tests for the core's export and backup jobs: what ExportJob and BackupJob write must
 * read identically with QEMU's tools (and, where installed, libvhdi's pyvhdi).
 * - ExportJob from a sparse random stack to raw, dynamic VHD and qcow2 files: `qemu-img compare`
 *   against the source's bytes and `qemu-img convert -O raw` both agree; `qemu-img check` finds
 *   the qcow2 clean, and it allocates exactly the clusters that hold non-zero data (holes stay
 *   holes).
 * - An incremental backup chain (full dynamic VHD + differencing VHD from the dirty bitmap, taken
 *   while the guest keeps writing): the full image reads as the first point in time with
 *   qemu-img; the chain reads as the second point in time with our reader (qemu cannot open a
 *   differencing VHD) and with pyvhdi when it is installed.
 * Gated like src/cli/qemu.oracle.test.ts: on CI a missing qemu-img fails loudly.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Disk } from '../core/disk/disk.ts';
import { openDisk } from '../core/disk/open-disk.ts';
import { imageFileFromSync } from '../core/formats/image-file.ts';
import { BackupJob, trackDirty } from '../core/jobs/backup-job.ts';
import { DirtyBitmap } from '../core/jobs/dirty-bitmap.ts';
import { diskSink, ExportJob, syncFileSink } from '../core/jobs/export-job.ts';
import { createQcow2Target } from '../core/jobs/qcow2-export-target.ts';
import { TrackedDisk } from '../core/jobs/tracked-disk.ts';
import { createFullVhdTarget, createIncrementalVhdTarget } from '../core/jobs/vhd-backup-target.ts';
import { LayeredDisk } from '../core/layered/layered-disk.ts';
import { RamLayer } from '../core/layered/ram-layer.ts';
import { expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { ModelledDisk, randomOps, readWhole } from '../core/testing/job-workload.ts';
import { seededRandom } from '../core/testing/seeded-random.ts';
import { libvhdiProbe } from './libvhdi-tools.ts';
import { NodeSyncFile } from './node-sync-file.ts';
import { openImage } from './open-image.ts';
import { qemuToolsAvailable } from './qemu-tools.ts';
import { pyvhdiReadChain } from './testing/pyvhdi-reader.ts';
import { useTempDir } from './testing/temp-files.ts';

const hasQemu = qemuToolsAvailable();
const pyvhdi = libvhdiProbe();
const MiB = 1024 * 1024;
const SS = 512;
const SIZE = 12 * MiB + 3 * 64 * 1024; // not a multiple of the VHD block or qcow2 L2 coverage
const SECTORS = SIZE / SS;

function ok(cmd: string, ...args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0);
  return r.stdout;
}

/**
 * Two RAM layers with seeded sparse writes: data runs, runs of written zeroes (allocated but
 * zero: must not be written out) and dropped ranges; most of the disk is a hole.
 */
async function sparseStack(seed: number): Promise<LayeredDisk> {
  const random = seededRandom(seed);
  const layers = [new RamLayer({ sectors: SECTORS, chunkBytes: 4096 }), new RamLayer({ sectors: SECTORS })];
  for (let i = 0; i < 60; i++) {
    const layer = layers[i % 2]!;
    const lba = Math.floor(random() * SECTORS);
    const count = Math.min(SECTORS - lba, 1 + Math.floor(random() * 300));
    const r = random();
    if (r < 0.7) await layer.write(lba, pattern(count * SS, seed + i));
    else if (r < 0.85) await layer.write(lba, new Uint8Array(count * SS));
    else await layer.unmap(lba, count, r < 0.92);
  }
  // The very last sector holds data, so a format that loses the tail is caught.
  await layers[1]!.write(SECTORS - 1, pattern(SS, seed + 1000));
  return new LayeredDisk(layers.map((layer) => ({ layer })));
}

function nonZeroClusters(bytes: Uint8Array, clusterBytes: number): number {
  let n = 0;
  for (let at = 0; at < bytes.length; at += clusterBytes) if (bytes.subarray(at, at + clusterBytes).some((b) => b !== 0)) n++;
  return n;
}

async function exportTo(source: Disk, target: Target): Promise<void> {
  const job = new ExportJob({ source, sink: await exportSink(target), chunkBytes: 256 * 1024 });
  await job.start();
  expect(job.state).toBe('completed');
}

type Target = { kind: 'raw'; path: string } | { kind: 'disk'; disk: Disk };
async function exportSink(target: Target) {
  if (target.kind === 'raw') {
    const file = new NodeSyncFile(target.path, { create: true });
    const sink = syncFileSink(file, target.path);
    return { write: sink.write, finish: async (size: number) => { await sink.finish(size); file.close(); } };
  }
  const sink = diskSink(target.disk);
  return { write: sink.write, finish: async (size: number) => { await sink.finish(size); await target.disk.close(); } };
}

function newImageFile(p: string) {
  return imageFileFromSync(new NodeSyncFile(p, { create: true }), { name: p, writable: true });
}

describe.runIf(hasQemu)('exported images read identically with qemu-img', () => {
  const { at } = useTempDir('disklab-export-oracle-');

  it.each([11, 2024])('ExportJob to raw, dynamic VHD and qcow2 (seed %i): qemu-img compare/convert agree, qcow2 is clean and sparse', async (seed) => {
    const stack = await sparseStack(seed);
    const source = openDisk(stack);
    const expected = await readWhole(source);
    const ref = at(`ref-${seed}.raw`);
    fs.writeFileSync(ref, expected);

    const raw = at(`out-${seed}.raw`);
    const vhd = at(`out-${seed}.vhd`);
    const qcow2 = at(`out-${seed}.qcow2`);
    await exportTo(source, { kind: 'raw', path: raw });
    await exportTo(source, { kind: 'disk', disk: await createFullVhdTarget(newImageFile(vhd), SIZE) });
    await exportTo(source, { kind: 'disk', disk: await createQcow2Target(newImageFile(qcow2), SIZE) });

    for (const [file, format] of [[raw, 'raw'], [vhd, 'vpc'], [qcow2, 'qcow2']] as const) {
      ok('qemu-img', 'compare', '-q', '-f', 'raw', '-F', format, ref, file);
      const back = at(`back-${seed}-${format}.raw`);
      ok('qemu-img', 'convert', '-f', format, '-O', 'raw', file, back);
      // A dynamic VHD's CHS geometry may round the size qemu reports up; the data must match.
      expectSameBytes(new Uint8Array(fs.readFileSync(back)).subarray(0, SIZE), expected, `${format} read back by qemu-img`);
    }
    expect(fs.statSync(raw).size).toBe(SIZE);
    const check = JSON.parse(ok('qemu-img', 'check', '--output=json', '-f', 'qcow2', qcow2)) as Record<string, unknown>;
    expect(check).toMatchObject({ 'check-errors': 0, filename: qcow2 });
    expect(check['corruptions'] ?? 0).toBe(0);
    expect(check['leaks'] ?? 0).toBe(0);
    expect(check['allocated-clusters']).toBe(nonZeroClusters(expected, 64 * 1024));
    const info = JSON.parse(ok('qemu-img', 'info', '--output=json', '-f', 'qcow2', qcow2)) as { 'virtual-size': number };
    expect(info['virtual-size']).toBe(SIZE);
  });

  it('an incremental backup chain (full VHD + differencing VHD) reads as each point in time', async () => {
    const stack = await sparseStack(7);
    const tracked = new TrackedDisk(openDisk(stack));
    const guest = new ModelledDisk(tracked, await readWhole(tracked));
    const random = seededRandom(99);
    const bitmap = new DirtyBitmap(SECTORS, 128);
    const detach = trackDirty(tracked, bitmap);

    const fullPath = at('chain-full.vhd');
    const full = await createFullVhdTarget(newImageFile(fullPath), SIZE, {});
    const first = guest.snapshot();
    const fullJob = new BackupJob({ source: tracked, target: full, mode: 'full', bitmap, chunkBytes: 128 * 1024 });
    await Promise.all([fullJob.start(), guest.run(randomOps(random, 15, 64, 0.2))]);
    expect(fullJob.state).toBe('completed');
    await full.close();

    await guest.run(randomOps(random, 25, 64, 0.2)); // between backups: tracked by the bitmap
    const incPath = at('chain-inc.vhd');
    const parentFile = imageFileFromSync(new NodeSyncFile(fullPath, { readOnly: true }), { name: fullPath, writable: false });
    const inc = await createIncrementalVhdTarget(newImageFile(incPath), { file: parentFile, name: 'chain-full.vhd' }, {});
    await parentFile.close();
    const second = guest.snapshot();
    const incJob = new BackupJob({ source: tracked, target: inc, mode: 'incremental', bitmap, chunkBytes: 128 * 1024 });
    await Promise.all([incJob.start(), guest.run(randomOps(random, 80, 200, 0.2))]);
    expect(incJob.state).toBe('completed');
    await inc.close();
    detach();
    // The increment holds only what changed (at most 40 writes of <= 64 sectors, in 64 KiB granules).
    expect(incJob.progress().bytesTotal).toBeGreaterThan(0);
    expect(incJob.progress().bytesTotal).toBeLessThanOrEqual(40 * 2 * 64 * 1024);

    const fullBack = at('chain-full.raw');
    ok('qemu-img', 'convert', '-f', 'vpc', '-O', 'raw', fullPath, fullBack);
    expectSameBytes(new Uint8Array(fs.readFileSync(fullBack)).subarray(0, SIZE), first, 'full backup read by qemu-img');

    const chain = await openImage(incPath);
    try {
      expectSameBytes(await readWhole(chain.disk), second, 'incremental chain read by disklab');
    } finally {
      await chain.disk.close();
    }
    const ours = await openImage(fullPath);
    try {
      expectSameBytes(await readWhole(ours.disk), first, 'full backup read by disklab');
    } finally {
      await ours.disk.close();
    }

    if (pyvhdi.python !== undefined) {
      const { bytes } = pyvhdiReadChain(pyvhdi.python, at('chain-pyvhdi.raw'), [incPath, fullPath]);
      expectSameBytes(bytes.subarray(0, SIZE), second, 'incremental chain read by pyvhdi');
    } else {
      console.warn(`pyvhdi check of the incremental chain left out: ${pyvhdi.detail}`);
    }
  });
});
