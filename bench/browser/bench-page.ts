/**
 * The in-browser benchmark page. In one run it measures the raw platform (a bare OPFS sync access
 * handle in a worker) and the same work through the lab's real workers: the disk worker serving
 * an NVMe-shaped controller over FileDisk-on-OPFS, a RAM disk, and a RAM layer over OPFS, driven by
 * the guest worker's fio-like jobs; and XTS-AES-256 throughput of the wasm module beside a JS XTS
 * on @noble/ciphers (xts-bench.worker.ts), run first in a worker of its own. Figures land in `window.benchResults`; the Node side
 * (bench/browser-suite.ts) turns them into ratios.
 */
import { wrap, type Remote } from 'comlink';
import type { DiskWorkerApi, GuestWorkerApi, StackId } from '../../workers/api.ts';
import type { DiskSpec } from '../../src/core/spec.ts';
import type { JobSpec } from '../../src/core/workload/job.ts';
import type { WorkloadResult } from '../../src/core/workload/results.ts';
import { registerErrorHandlers } from '../../workers/comlink-errors.ts';
import { readControllerStats } from '../../src/core/controller/stats.ts';
import { DB_CQ_HEAD, DB_SQ_TAIL, H_STATE, layoutOf, type ControllerBuffers } from '../../src/core/controller/layout.ts';
import type { BrowserFigure, RawOpfsRequest, RawOpfsResult } from '../browser-protocol.ts';

declare global {
  interface Window {
    benchResults?: { figures: BrowserFigure[]; error?: string };
  }
}

const MiB = 1024 * 1024;
const FILE_BYTES = 64 * MiB;
const RUNTIME_NS = 2e9;
const figures: BrowserFigure[] = [];
const out = document.getElementById('out')!;

function log(line: string): void {
  out.textContent = (out.textContent === 'running…' ? '' : out.textContent) + line + '\n';
}

function record(name: string, unit: BrowserFigure['unit'], value: number, ops: number, seconds: number): void {
  figures.push({ name, unit, value, ops, seconds });
  log(`${name}: ${value.toFixed(1)} ${unit}`);
}

async function rawOpfs(): Promise<RawOpfsResult> {
  const worker = new Worker(new URL('./raw-opfs.worker.ts', import.meta.url), { type: 'module' });
  try {
    const request: RawOpfsRequest = { fileBytes: FILE_BYTES, randomMs: RUNTIME_NS / 1e6 };
    return await new Promise<RawOpfsResult>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ ok: boolean; result?: RawOpfsResult; error?: string }>) =>
        e.data.ok && e.data.result ? resolve(e.data.result) : reject(new Error(e.data.error));
      worker.postMessage(request);
    });
  } finally {
    worker.terminate();
  }
}

/** The XTS figures from xts-bench.worker.ts (its messages: `{ log }` lines, then `{ figures }` or `{ error }`). */
async function xtsFigures(): Promise<BrowserFigure[]> {
  const worker = new Worker(new URL('./xts-bench.worker.ts', import.meta.url), { type: 'module' });
  try {
    return await new Promise<BrowserFigure[]>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ log?: string; figures?: BrowserFigure[]; error?: string }>) => {
        if (e.data.log !== undefined) log(e.data.log);
        else if (e.data.figures) resolve(e.data.figures);
        else reject(new Error(e.data.error ?? 'xts bench worker: no result'));
      };
      worker.onerror = (e) => reject(new Error(`xts bench worker: ${e.message}`));
    });
  } finally {
    worker.terminate();
  }
}

function describeController(buffers: ControllerBuffers): string {
  const stats = readControllerStats(buffers.stats);
  const layout = layoutOf(new Int32Array(buffers.control));
  const c = new Int32Array(buffers.control);
  const queues = stats.queues.map((q, i) => {
    const sqTail = Atomics.load(c, layout.doorbellWord(i, DB_SQ_TAIL));
    const cqHead = Atomics.load(c, layout.doorbellWord(i, DB_CQ_HEAD));
    return `q${i} fetched ${q.fetched} completed ${q.completed} in flight ${q.inFlight} sqTail ${sqTail} cqHead ${cqHead}`;
  });
  return `state ${Atomics.load(c, H_STATE)} irq ${Atomics.load(c, layout.vectorWord(0))}; ${queues.join('; ')}`;
}

class Lab {
  readonly disk: Remote<DiskWorkerApi>;
  readonly guest: Remote<GuestWorkerApi>;

  constructor() {
    this.disk = wrap<DiskWorkerApi>(new Worker(new URL('../../workers/disk.worker.ts', import.meta.url), { type: 'module' }));
    this.guest = wrap<GuestWorkerApi>(new Worker(new URL('../../workers/guest.worker.ts', import.meta.url), { type: 'module' }));
  }

  /** Opens `spec`, attaches a one-queue controller of depth 32, runs each job in turn (its iodepth is the QD), and closes the stack. */
  async run(spec: DiskSpec, jobs: readonly JobSpec[]): Promise<WorkloadResult[]> {
    const info = await this.disk.openStack(spec, 'bench');
    const id: StackId = info.id;
    try {
      const buffers = await this.disk.attachController(id, { queues: 1, depth: 32, guestMemoryBytes: 64 * MiB });
      await this.guest.attach(buffers);
      const results: WorkloadResult[] = [];
      for (const job of jobs) {
        log(`  ${info.name}: ${job.rw} bs=${job.bs} iodepth=${job.iodepth}…`);
        // A job that runs long past its runtime is stuck: show what the controller says.
        const watchdog = setInterval(() => log(`    still running: ${describeController(buffers)}`), 5000);
        try {
          results.push(await this.guest.run(job));
        } finally {
          clearInterval(watchdog);
        }
      }
      await this.disk.detachController(id);
      return results;
    } finally {
      await this.disk.closeStack(id);
    }
  }
}

const fill: JobSpec = { rw: 'write', bs: MiB, iodepth: 4, size: FILE_BYTES, ios: FILE_BYTES / MiB };
const randRead = (iodepth: number): JobSpec => ({ rw: 'randread', bs: 4096, iodepth, size: FILE_BYTES, runtimeNs: RUNTIME_NS, seed: 7 });
const seqRead: JobSpec = { rw: 'read', bs: MiB, iodepth: 4, size: FILE_BYTES, runtimeNs: RUNTIME_NS };
const seqWrite: JobSpec = { rw: 'write', bs: MiB, iodepth: 4, size: FILE_BYTES, runtimeNs: RUNTIME_NS };

function iops(r: WorkloadResult | undefined, name: string, op: 'read' | 'write' = 'read'): void {
  if (!r) throw new Error(`${name}: no result`);
  record(name, 'IOPS', r[op].iops, r[op].ios, r.runtimeNs / 1e9);
}

function mbps(r: WorkloadResult | undefined, name: string, op: 'read' | 'write'): void {
  if (!r) throw new Error(`${name}: no result`);
  record(name, 'MB/s', r[op].bytesPerSecond / MiB, r[op].ios, r.runtimeNs / 1e9);
}

async function main(): Promise<void> {
  registerErrorHandlers();
  for (const f of await xtsFigures()) record(f.name, f.unit, f.value, f.ops, f.seconds);
  if (new URLSearchParams(location.search).has('xts-only')) return;
  const raw = await rawOpfs();
  record('raw-opfs-1m-seqwrite', 'MB/s', raw.seqWriteMBps, FILE_BYTES / MiB, 0);
  record('raw-opfs-1m-seqread', 'MB/s', raw.seqReadMBps, FILE_BYTES / MiB, 0);
  record('raw-opfs-4k-randread', 'IOPS', raw.randReadIops, 0, RUNTIME_NS / 1e9);
  record('ramdisk-direct-4k-randread', 'IOPS', raw.ramDirectIops, 0, RUNTIME_NS / 1e9);

  const lab = new Lab();
  const ram: DiskSpec = { kind: 'ram', sectors: FILE_BYTES / 512 };
  const [, ramQd1] = await lab.run(ram, [fill, randRead(1)]);
  iops(ramQd1, 'controller-ram-4k-randread-qd1');
  const [, ramQd32] = await lab.run(ram, [fill, randRead(32)]);
  iops(ramQd32, 'controller-ram-4k-randread-qd32');

  const image = await lab.disk.createImage(`bench-${Date.now()}.img`, FILE_BYTES, 'raw');
  const opfs: DiskSpec = { kind: 'opfs', path: `disklab/${image.name}`, format: 'raw' };
  try {
    const [write, qd1] = await lab.run(opfs, [seqWrite, randRead(1)]);
    mbps(write, 'controller-filedisk-opfs-1m-seqwrite', 'write');
    iops(qd1, 'controller-filedisk-opfs-4k-randread-qd1');
    const [qd32, seq] = await lab.run(opfs, [randRead(32), seqRead]);
    iops(qd32, 'controller-filedisk-opfs-4k-randread-qd32');
    mbps(seq, 'controller-filedisk-opfs-1m-seqread', 'read');
    const layered: DiskSpec = {
      kind: 'layered',
      layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { ...opfs, readOnly: true } }],
    };
    const [overOpfs] = await lab.run(layered, [randRead(32)]);
    iops(overOpfs, 'controller-layered-ram-over-opfs-4k-randread-qd32');
  } finally {
    await lab.disk.deleteImage(image.name);
  }
}

main().then(
  () => {
    window.benchResults = { figures };
    log('done');
  },
  (e: unknown) => {
    window.benchResults = { figures, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    log(`failed: ${String(e)}`);
  },
);
