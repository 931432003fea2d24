// A ControllerHost created over a controller that another host already drove (the guest worker
// builds one per job; a page may re-attach a guest to the same buffers) must resume at the rings'
// real positions: SQ tail and CQ head from the doorbells, the expected phase from the CQ. A host
// that assumed fresh rings (tail 0, head 0, phase 1) wrote SQEs where the device was not looking
// and watched CQ slots the device was not writing: the second job hung with its completions
// posted and never reaped (the in-browser benchmark's QD32 hang).
import { afterEach, describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { runWorkloadPolling } from '../workload/run.ts';
import { allocateControllerBuffers } from './buffers.ts';
import { ControllerDevice } from './device.ts';
import { ControllerHost, type Completion, type HostQueue } from './host.ts';
import { DB_CQ_HEAD, DB_SQ_TAIL, Opcode, type ControllerBuffers } from './layout.ts';
import { readControllerStats } from './stats.ts';

const devices: ControllerDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
});

function start(depth: number, queues = 1): ControllerBuffers {
  const buffers = allocateControllerBuffers({ queues, depth, guestMemoryBytes: 8 << 20 });
  const device = new ControllerDevice(new RamDisk({ sectors: 16384 }), buffers);
  devices.push(device);
  device.start();
  return buffers;
}

/** Submits `count` 4 KiB reads on `queue` (all at once) and collects their completions. */
async function burst(host: ControllerHost, queue: HostQueue, count: number): Promise<{ cids: number[]; done: Completion[] }> {
  const data = host.memory.alloc(4096);
  const cids: number[] = [];
  for (let i = 0; i < count; i++) cids.push(queue.trySubmit({ opcode: Opcode.READ, lba: i * 8, blocks: 8, dataOffset: data, dataLength: 4096 }, false));
  queue.ringDoorbell();
  const done: Completion[] = [];
  while (done.length < count) {
    const seen = host.interruptCount(queue.vector);
    done.push(...queue.reap());
    if (done.length < count && (await host.waitInterruptAsync(queue.vector, seen, 2000)) === 'timed-out') {
      throw new Error(`timed out with ${done.length}/${count} completions`);
    }
  }
  return { cids, done };
}

describe('a second ControllerHost over a running controller', () => {
  it('resumes at the doorbells and the CQ phase, at every ring position', async () => {
    const depth = 4; // rings of 5 slots: 0..9 commands first cover every slot in both phases
    for (let first = 0; first <= 2 * (depth + 1); first++) {
      const buffers = start(depth);
      const a = new ControllerHost(buffers);
      if (first > 0) {
        // In bursts no larger than the depth, as a driver may.
        for (let left = first; left > 0; left -= depth) await burst(a, a.queue(0), Math.min(left, depth));
      }
      const b = new ControllerHost(buffers);
      const q = b.queue(0);
      const { cids, done } = await burst(b, q, depth);
      expect(done.map((c) => c.cid).sort(), `after ${first} commands`).toEqual(cids.sort());
      expect(done.every((c) => c.status === 0)).toBe(true);
      expect(q.outstanding).toBe(0);
      const control = new Int32Array(buffers.control);
      const entries = depth + 1;
      const total = first + depth;
      expect(Atomics.load(control, b.layout.doorbellWord(0, DB_SQ_TAIL))).toBe(total % entries);
      expect(Atomics.load(control, b.layout.doorbellWord(0, DB_CQ_HEAD))).toBe(total % entries);
      // The device fetched exactly what was submitted: no stale SQE ran again.
      expect(readControllerStats(buffers.stats).queues[0]!.fetched).toBe(total);
      await devices.pop()!.stop();
    }
  });

  it('runs the benchmark sequence: fill at QD4, then a new host reads at QD32 on a depth-32 queue', async () => {
    const buffers = start(32);
    const fill = await runWorkloadPolling(new ControllerHost(buffers), { rw: 'write', bs: 1 << 20, iodepth: 4, size: 8 << 20, ios: 64 });
    expect(fill.write).toMatchObject({ ios: 64, errors: 0 });
    const read = await runWorkloadPolling(new ControllerHost(buffers), { rw: 'randread', bs: 4096, iodepth: 32, size: 8 << 20, ios: 2000, seed: 7 });
    expect(read.aborted).toBeUndefined();
    expect(read.read).toMatchObject({ ios: 2000, errors: 0 });
    const stats = readControllerStats(buffers.stats);
    expect(stats.queues[0]).toMatchObject({ fetched: 2064, completed: 2064, inFlight: 0 });
    expect(stats.ops.write.ops).toBe(64); // no stale fill write was executed a second time
  }, 20_000);
});
