/**
 * Node benchmarks of block jobs (issue 7): commit and export throughput over files, each against
 * a raw node:fs copy of the same bytes (1 MiB reads and writes, then fdatasync) in the same run;
 * the target is 70% of the raw copy. Also a sparse export: the bytes it writes against
 * the bytes the stack holds (the ideal ratio is 1: holes are never written).
 * Each figure is the best of three runs, in MiB/s.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileDisk } from '../src/core/backends/file-disk.ts';
import { openDisk } from '../src/core/disk/open-disk.ts';
import { CommitJob } from '../src/core/jobs/commit-job.ts';
import { ExportJob, syncFileSink } from '../src/core/jobs/export-job.ts';
import { DiskLayer } from '../src/core/layered/disk-layer.ts';
import { LayeredDisk } from '../src/core/layered/layered-disk.ts';
import { PersistentLayer } from '../src/core/layered/persistent-layer.ts';
import { NodeSyncFile } from '../src/node/node-sync-file.ts';
import { result, type BenchResult, type Rate } from './harness.ts';

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const TOP_BYTES = 32 * MiB;
const SECTOR = 512;

function content(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4) out[i] = (i * 31 + seed) & 0xff || 1;
  return out;
}

/** Raw platform copy: `length` bytes from `from` to `to` at the same offsets, 1 MiB at a time, then fdatasync. */
function rawCopy(from: string, to: string, offset: number, length: number): void {
  const src = fs.openSync(from, 'r');
  const dst = fs.openSync(to, 'r+');
  const buf = new Uint8Array(MiB);
  try {
    for (let at = 0; at < length; at += MiB) {
      const n = fs.readSync(src, buf, 0, Math.min(MiB, length - at), offset + at);
      fs.writeSync(dst, buf, 0, n, offset + at);
    }
    fs.fdatasyncSync(dst);
  } finally {
    fs.closeSync(src);
    fs.closeSync(dst);
  }
}

async function best(runs: number, bytes: number, once: () => Promise<void> | void): Promise<Rate> {
  let seconds = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return { perSecond: bytes / MiB / seconds, ops: runs, seconds };
}

/** harness.ts `result` with the target ratio, where it names one. */
function mibResult(name: string, description: string, subject: Rate, baselineName: string, baseline: Rate, target?: number, unit = 'MiB/s'): BenchResult {
  const r = result(name, description, unit, subject, { name: baselineName, rate: baseline });
  return target === undefined ? r : { ...r, targetRatio: target };
}

export async function jobBenchmarks(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-jobs-'));
  const base = path.join(dir, 'base.img');
  const out: BenchResult[] = [];
  try {
    // Commit: a persistent top layer holding 32 MiB, into a raw base file.
    const topData = content(TOP_BYTES, 5);
    const prepareCommit = async () => {
      fs.writeFileSync(base, new Uint8Array(DISK_BYTES));
      for (const name of ['top.data', 'top.meta']) fs.writeFileSync(path.join(dir, name), new Uint8Array(0));
      const top = PersistentLayer.create(
        { data: new NodeSyncFile(path.join(dir, 'top.data')), meta: new NodeSyncFile(path.join(dir, 'top.meta')) },
        { sectors: DISK_BYTES / SECTOR },
      );
      for (let at = 0; at < TOP_BYTES; at += MiB) await top.write((DISK_BYTES / 4 + at) / SECTOR, topData.subarray(at, at + MiB));
      await top.flush();
      return new LayeredDisk([{ layer: top }, { layer: new DiskLayer(new FileDisk(new NodeSyncFile(base))) }]);
    };
    let commitSeconds = Infinity;
    for (let i = 0; i < 3; i++) {
      const disk = await prepareCommit();
      const start = performance.now();
      const result = await new CommitJob({ disk }).start();
      commitSeconds = Math.min(commitSeconds, (performance.now() - start) / 1000);
      await result.disk.close();
      await result.dropped.close();
    }
    const commit: Rate = { perSecond: TOP_BYTES / MiB / commitSeconds, ops: 3, seconds: commitSeconds };
    const rawCommit = await best(3, TOP_BYTES, () => rawCopy(path.join(dir, 'top.data'), base, 0, TOP_BYTES));
    out.push(mibResult('job-commit-persistent-to-file', 'CommitJob: 32 MiB persistent layer (64 KiB chunks) into a raw base file', commit, 'node:fs copy of the same bytes, 1 MiB at a time, fdatasync', rawCommit, 0.7));

    // Export: a full 64 MiB raw file to a raw file.
    fs.writeFileSync(base, content(DISK_BYTES, 9));
    const target = path.join(dir, 'export.img');
    const exportRate = await best(3, DISK_BYTES, async () => {
      fs.writeFileSync(target, new Uint8Array(0));
      const source = openDisk(new FileDisk(new NodeSyncFile(base), { readOnly: true }));
      const file = new NodeSyncFile(target);
      await new ExportJob({ source, sink: syncFileSink(file) }).start();
      file.close();
      await source.close();
    });
    const rawExport = await best(3, DISK_BYTES, () => {
      fs.writeFileSync(target, new Uint8Array(0));
      rawCopy(base, target, 0, DISK_BYTES);
    });
    out.push(mibResult('job-export-file-to-raw', 'ExportJob: 64 MiB raw FileDisk to a raw file', exportRate, 'node:fs copy of the same bytes, 1 MiB at a time, fdatasync', rawExport, 0.7));

    // Sparse export: the committed stack again (32 of 64 MiB allocated in its top; base all zero).
    fs.writeFileSync(base, new Uint8Array(DISK_BYTES));
    const sparse = await prepareCommit();
    const layers = sparse.layerInfo();
    const topOnly = new LayeredDisk([{ layer: layers[0]!.layer }]);
    fs.writeFileSync(target, new Uint8Array(0));
    const sink = new NodeSyncFile(target);
    const start = performance.now();
    const written = await new ExportJob({ source: topOnly, sink: syncFileSink(sink) }).start();
    const seconds = (performance.now() - start) / 1000;
    sink.close();
    await topOnly.close();
    await layers[1]!.layer.close();
    const held = TOP_BYTES;
    out.push(mibResult(
      'job-export-sparse-bytes-written',
      'ExportJob of a 64 MiB layer holding 32 MiB: MiB written per MiB held (1.0 = holes never written)',
      { perSecond: written.bytesWritten / MiB, ops: 1, seconds },
      'MiB the layer holds',
      { perSecond: held / MiB, ops: 1, seconds },
      1,
      'MiB',
    ));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
