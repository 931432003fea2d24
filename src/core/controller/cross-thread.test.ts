// The controller across threads, as the lab runs it: the guest in a worker blocks on Atomics.wait,
// the device on this (main) thread waits with Atomics.waitAsync and never blocks.
// The worker is Node's worker_threads running a small CommonJS script that registers tsx, so it
// can import the same TypeScript modules the browser's guest worker will.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import type { JobSpec } from '../workload/job.ts';
import type { WorkloadResult } from '../workload/results.ts';
import { allocateControllerBuffers } from './buffers.ts';
import { ControllerDevice } from './device.ts';
import type { Completion } from './host.ts';
import { Opcode, type ControllerBuffers, type OpcodeValue } from './layout.ts';
import { readControllerStats } from './stats.ts';
import type { Disk } from '../disk/disk.ts';

const GUEST = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  const { ControllerHost } = await import(workerData.modules.host);
  const { runWorkloadBlocking } = await import(workerData.modules.run);
  const { VerifyState } = await import(workerData.modules.verify);
  const host = new ControllerHost(workerData.buffers);
  host.waitReady(5000);
  let value;
  if (workerData.task === 'jobs') {
    const first = workerData.jobs[0];
    const verifyState = new VerifyState(first.offset ?? 0, first.bs ?? 4096);
    value = workerData.jobs.map((spec) => runWorkloadBlocking(host, spec, { verifyState }));
  } else {
    value = [];
    for (const { queue, opcode, lba, blocks, bytes } of workerData.commands) {
      const q = host.queue(queue);
      const dataOffset = host.memory.alloc(bytes);
      const cid = q.submit({ opcode, lba, blocks, dataOffset, dataLength: bytes }, 5000);
      const done = q.waitCompletions(5000);
      if (done.length !== 1 || done[0].cid !== cid) throw new Error('unexpected completions ' + JSON.stringify(done));
      value.push(done[0]);
    }
  }
  parentPort.postMessage({ ok: true, value });
})().catch((e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e) }));
`;

const modules = {
  host: new URL('./host.ts', import.meta.url).href,
  run: new URL('../workload/run.ts', import.meta.url).href,
  verify: new URL('../workload/verify.ts', import.meta.url).href,
};

interface RawCommand {
  readonly queue: number;
  readonly opcode: OpcodeValue;
  readonly lba: number;
  readonly blocks: number;
  readonly bytes: number;
}

const devices: ControllerDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
});

function startDevice(disk: Disk, queues: number, depth: number): ControllerBuffers {
  const buffers = allocateControllerBuffers({ queues, depth, guestMemoryBytes: 8 << 20 });
  const device = new ControllerDevice(disk, buffers);
  devices.push(device);
  device.start();
  return buffers;
}

function guest<T>(buffers: ControllerBuffers, task: { task: 'jobs'; jobs: JobSpec[] } | { task: 'commands'; commands: RawCommand[] }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(GUEST, { eval: true, workerData: { ...task, buffers, modules } });
    worker.once('message', (m: { ok: boolean; value: T; error: string }) => {
      void worker.terminate();
      if (m.ok) resolve(m.value);
      else reject(new Error(m.error));
    });
    worker.once('error', reject);
  });
}

describe('controller across threads', () => {
  it('randwrite then verify-read at QD32 on each of 2 queues, zero mismatches', async () => {
    const disk = new RamDisk({ sectors: 32768 });
    const buffers = startDevice(disk, 2, 32);
    const base = { bs: 4096, iodepth: 32, queues: 2, size: 8 << 20, verify: true } as const;
    const [write, read] = await guest<WorkloadResult[]>(buffers, {
      task: 'jobs',
      jobs: [
        { ...base, rw: 'randwrite', ios: 6000, seed: 3 },
        { ...base, rw: 'randread', ios: 4000, seed: 4 },
      ],
    });
    expect(write!.write).toMatchObject({ ios: 6000, errors: 0 });
    expect(write!.verify).toMatchObject({ mismatches: 0 });
    expect(write!.verify!.blocksChecked).toBeGreaterThan(1500); // of 2048 blocks
    expect(read!.read).toMatchObject({ ios: 4000, errors: 0 });
    expect(read!.verify).toMatchObject({ blocksChecked: 4000, mismatches: 0 });
    const stats = readControllerStats(buffers.stats);
    expect(stats.ops.write.ops).toBe(6000);
    expect(stats.ops.read.ops).toBe(4000 + write!.verify!.blocksChecked);
    // Both queues were used, and the device really ran commands concurrently.
    for (const q of stats.queues) expect(q.peakInFlight).toBeGreaterThan(1);
    expect(stats.queues.every((q) => q.inFlight === 0)).toBe(true);
  });

  it('maps out-of-range LBAs and writes to a read-only disk to their NVMe statuses', async () => {
    const rw = startDevice(new RamDisk({ sectors: 1000 }), 2, 4);
    const done = await guest<Completion[]>(rw, {
      task: 'commands',
      commands: [
        { queue: 0, opcode: Opcode.READ, lba: 999, blocks: 2, bytes: 1024 },
        { queue: 1, opcode: Opcode.WRITE, lba: 1000, blocks: 1, bytes: 512 },
        { queue: 0, opcode: Opcode.WRITE, lba: 998, blocks: 2, bytes: 1024 },
      ],
    });
    expect(done.map((c) => [c.sct, c.sc])).toEqual([
      [0, 0x80],
      [0, 0x80],
      [0, 0],
    ]);
    const ro = startDevice(new RamDisk({ sectors: 1000, readOnly: true }), 1, 4);
    const [write, read] = await guest<Completion[]>(ro, {
      task: 'commands',
      commands: [
        { queue: 0, opcode: Opcode.WRITE, lba: 0, blocks: 8, bytes: 4096 },
        { queue: 0, opcode: Opcode.READ, lba: 0, blocks: 8, bytes: 4096 },
      ],
    });
    expect([write!.sct, write!.sc, write!.dnr]).toEqual([1, 0x82, true]);
    expect(read!.status).toBe(0);
  });
});
