/**
 * Image-format benchmarks against qemu-img, measured in the same run (skipped with a note on
 * stderr when qemu-img is not installed):
 * - converting a 1 GiB dynamic VHD with half its blocks allocated to raw: `disklab convert`
 *   (in-process, the CLI's own code) vs `qemu-img convert` of the same file; the ratio is
 *   qemu-img's time over ours (1.0 = as fast; the target is at least 0.5);
 * - opening a sparse 2040 GiB dynamic VHD (VHD's largest): time and heap growth, against
 *   `qemu-img info` of the same file as the peer.
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
    const qemuSeconds = seconds(() => run('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', vhd, path.join(dir, 'qemu.raw')]));
    const oursSeconds = await secondsAsync(async () => {
      const status = await convertCommand({ source: vhd, target: path.join(dir, 'ours.raw'), outputFormat: 'raw', options: [], progress: false, force: false }, quiet);
      if (status !== 0) throw new Error('disklab convert failed');
    });
    const big = path.join(dir, 'big.vhd');
    run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic,force_size=on', big, '2040G']);
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    let opened: Awaited<ReturnType<typeof openImage>> | undefined;
    const openSeconds = await secondsAsync(async () => {
      opened = await openImage(big, { readOnly: true });
    });
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    await opened?.disk.close();
    const qemuInfoSeconds = seconds(() => run('qemu-img', ['info', big]));
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return [
      {
        name: 'convert-dynamic-vhd-1g-half-allocated-to-raw',
        description: 'disklab convert (in-process) of a 1 GiB dynamic VHD, every other 2 MiB block allocated, to raw; ratio = qemu-img time / ours',
        unit: 's',
        value: round(oursSeconds),
        ops: 1,
        seconds: round(oursSeconds),
        baseline: { name: 'qemu-img convert -O raw of the same file (peer)', unit: 's', value: round(qemuSeconds) },
        ratio: round(qemuSeconds / oursSeconds),
        targetRatio: 0.5,
      },
      {
        name: 'open-sparse-dynamic-vhd-2040g',
        description: `open a sparse 2040 GiB dynamic VHD (BAT 4 MiB); heap + array buffers grew ${Math.round((heapAfter - heapBefore) / MiB)} MiB (target < 32 MiB, < 100 ms); ratio = qemu-img info time / ours`,
        unit: 's',
        value: round(openSeconds),
        ops: 1,
        seconds: round(openSeconds),
        baseline: { name: 'qemu-img info of the same file, a whole process (peer)', unit: 's', value: round(qemuInfoSeconds) },
        ratio: round(qemuInfoSeconds / openSeconds),
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
