/**
 * Image-format benchmarks against qemu-img, measured in the same run (skipped with a note on
 * stderr when qemu-img is not installed):
 * - converting a 1 GiB dynamic VHD with half its blocks allocated to raw: `disklab convert`
 *   (in-process, the CLI's own code) vs `qemu-img convert` of the same file; the ratio is
 *   qemu-img's time over ours (1.0 = as fast; the target is at least 0.5);
 * - opening a sparse 2040 GiB dynamic VHD (VHD's largest): time and heap growth, against
 *   `qemu-img info` of the same file as the peer.
 * - the same two for qcow2: converting a 1 GiB qcow2 (64 KiB clusters) with every other cluster
 *   allocated to raw, and opening a sparse 2 TiB qcow2 (target < 100 ms and < 32 MiB).
 *
 * Memory is the growth of V8's heap plus external memory (ArrayBuffers and other off-heap
 * allocations) across the open, as process.memoryUsage() reports it: a coarse figure (no forced
 * GC), good enough to tell a table loaded whole from one read on demand.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertCommand } from '../src/cli/convert.ts';
import { openImage } from '../src/node/open-image.ts';
import type { BenchResult } from './harness.ts';

const MiB = 1024 * 1024;
const quiet = { stdout: () => undefined, stderr: () => undefined };

function run(cmd: string, args: readonly string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function seconds(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

async function secondsAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Bytes of V8 heap plus external (off-heap, ArrayBuffers included) memory in use now. */
function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

interface OpenMeasure {
  readonly seconds: number;
  readonly grewBytes: number;
}

/** Opens `file` read-only with our reader (the CLI's openImage), timing it and the memory it keeps. */
async function measureOpen(file: string): Promise<OpenMeasure> {
  const before = memoryInUse();
  let opened: Awaited<ReturnType<typeof openImage>> | undefined;
  const seconds = await secondsAsync(async () => {
    opened = await openImage(file, { readOnly: true });
  });
  const grewBytes = memoryInUse() - before;
  await opened?.disk.close();
  return { seconds, grewBytes };
}

/** disklab convert to raw (in-process) and qemu-img convert of the same file, in seconds. */
async function measureConvert(dir: string, source: string, qemuFormat: string): Promise<{ ours: number; qemu: number }> {
  const qemu = seconds(() => run('qemu-img', ['convert', '-f', qemuFormat, '-O', 'raw', source, path.join(dir, 'qemu.raw')]));
  fs.rmSync(path.join(dir, 'qemu.raw'));
  const ours = await secondsAsync(async () => {
    const status = await convertCommand({ source, target: path.join(dir, 'ours.raw'), outputFormat: 'raw', options: [], progress: false, force: false }, quiet);
    if (status !== 0) throw new Error('disklab convert failed');
  });
  fs.rmSync(path.join(dir, 'ours.raw'));
  return { ours, qemu };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function convertResult(name: string, what: string, t: { ours: number; qemu: number }): BenchResult {
  return {
    name,
    description: `disklab convert (in-process) of ${what} to raw; ratio = qemu-img time / ours`,
    unit: 's',
    value: round(t.ours),
    ops: 1,
    seconds: round(t.ours),
    baseline: { name: 'qemu-img convert -O raw of the same file (peer)', unit: 's', value: round(t.qemu) },
    ratio: round(t.qemu / t.ours),
    targetRatio: 0.5,
  };
}

function openResult(name: string, what: string, open: OpenMeasure, qemuInfoSeconds: number): BenchResult {
  const grewMiB = Math.round((open.grewBytes / MiB) * 10) / 10;
  return {
    name,
    description: `open ${what}; heap + external memory grew ${grewMiB} MiB (target < 32 MiB, < 100 ms); ratio = qemu-img info time / ours`,
    unit: 's',
    value: round(open.seconds),
    ops: 1,
    seconds: round(open.seconds),
    baseline: { name: 'qemu-img info of the same file, a whole process (peer)', unit: 's', value: round(qemuInfoSeconds) },
    ratio: round(qemuInfoSeconds / open.seconds),
  };
}

export async function formatBenchmarks(): Promise<BenchResult[]> {
  if (spawnSync('qemu-img', ['--version']).status !== 0) {
    process.stderr.write('bench: qemu-img not found; skipping the format benchmarks\n');
    return [];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-bench-formats-'));
  try {
    // Half the 2 MiB blocks hold data: every other block, written by qemu-io so the image is qemu's.
    const vhd = path.join(dir, 'half.vhd');
    run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic,force_size=on', vhd, '1G']);
    const writes = Array.from({ length: 256 }, (_, i) => ['-c', `write -P ${(i % 250) + 1} ${i * 4 * MiB} ${2 * MiB}`]).flat();
    run('qemu-io', ['-f', 'vpc', ...writes, vhd]);
    const vhdConvert = await measureConvert(dir, vhd, 'vpc');
    fs.rmSync(vhd);

    // Half the 64 KiB clusters hold data: every other one, so every L2 table is half full and no
    // two data clusters are neighbours in the guest.
    const qcow2 = path.join(dir, 'half.qcow2');
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=65536', qcow2, '1G']);
    const clusterWrites = Array.from({ length: 8192 }, (_, i) => ['-c', `write -P ${(i % 250) + 1} ${i * 128 * 1024} 65536`]).flat();
    run('qemu-io', ['-f', 'qcow2', ...clusterWrites, qcow2]);
    const qcow2Convert = await measureConvert(dir, qcow2, 'qcow2');
    fs.rmSync(qcow2);

    const bigVhd = path.join(dir, 'big.vhd');
    run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic,force_size=on', bigVhd, '2040G']);
    const vhdOpen = await measureOpen(bigVhd);
    const vhdInfoSeconds = seconds(() => run('qemu-img', ['info', bigVhd]));

    const bigQcow2 = path.join(dir, 'big.qcow2');
    run('qemu-img', ['create', '-q', '-f', 'qcow2', bigQcow2, '2T']);
    const qcow2Open = await measureOpen(bigQcow2);
    const qcow2InfoSeconds = seconds(() => run('qemu-img', ['info', bigQcow2]));

    return [
      convertResult('convert-dynamic-vhd-1g-half-allocated-to-raw', 'a 1 GiB dynamic VHD, every other 2 MiB block allocated', vhdConvert),
      openResult('open-sparse-dynamic-vhd-2040g', 'a sparse 2040 GiB dynamic VHD (BAT 4 MiB)', vhdOpen, vhdInfoSeconds),
      convertResult('convert-qcow2-1g-half-allocated-to-raw', 'a 1 GiB qcow2 (64 KiB clusters), every other cluster allocated', qcow2Convert),
      openResult('open-sparse-qcow2-2t', 'a sparse 2 TiB qcow2 (64 KiB clusters, L1 32 KiB, no L2 tables)', qcow2Open, qcow2InfoSeconds),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
