import { afterEach, describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { ForwardingDisk } from '../decorators/forwarding-disk.ts';
import { DiskError } from '../disk/errors.ts';
import { runWorkloadPolling } from '../workload/run.ts';
import { allocateControllerBuffers } from './buffers.ts';
import { ControllerDevice } from './device.ts';
import { ControllerHost } from './host.ts';
import { Opcode } from './layout.ts';
import { readControllerStats, STATS_OPS } from './stats.ts';

const devices: ControllerDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
});

/** Fails reads of LBA 0..7 with a medium error; everything else passes through. */
class BadFirstBlock extends ForwardingDisk {
  override read(lba: number, buf: Uint8Array): Promise<void> {
    if (lba < 8) return Promise.reject(new DiskError('MEDIUM_ERROR', 'unreadable', { lba }));
    return this.inner.read(lba, buf);
  }
}

describe('controller stats', () => {
  it('count every command, byte, error and latency sample the device handled', async () => {
    const buffers = allocateControllerBuffers({ queues: 3, depth: 8 });
    const device = new ControllerDevice(new BadFirstBlock(new RamDisk({ sectors: 4096 })), buffers);
    devices.push(device);
    device.start();
    const host = new ControllerHost(buffers);
    const r = await runWorkloadPolling(host, { rw: 'randrw', bs: 4096, iodepth: 8, queues: 3, size: 64 * 4096, ios: 1500, verify: true });
    const q = host.queue(2);
    for (const op of [Opcode.FLUSH, Opcode.DSM]) q.trySubmit({ opcode: op, lba: 100, blocks: 4 });
    while (q.outstanding > 0) {
      await host.waitInterruptAsync(q.vector, host.interruptCount(q.vector), 100);
      q.reap();
    }

    const s = readControllerStats(buffers.stats);
    expect(s.consistent).toBe(true);
    const reads = r.read.ios + r.verify!.reads.ios;
    const readErrors = r.read.errors + r.verify!.reads.errors;
    expect(readErrors).toBeGreaterThan(0);
    expect(s.ops.read).toMatchObject({ ops: reads, bytes: reads * 4096, errors: readErrors, inFlight: 0 });
    expect(s.ops.write).toMatchObject({ ops: r.write.ios, bytes: r.write.ios * 4096, errors: 0, inFlight: 0 });
    expect(s.ops.flush).toMatchObject({ ops: 1, bytes: 0, errors: 0 });
    expect(s.ops.dsm).toMatchObject({ ops: 1, bytes: 4 * 512, errors: 0 });
    for (const op of STATS_OPS) expect(s.ops[op].latency.count).toBe(s.ops[op].ops);
    const buckets = s.ops.read.latency.snapshot().bucketCount.reduce((a, b) => a + b, 0);
    expect(buckets).toBe(reads);
    const total = reads + readErrors + r.write.ios + 2;
    expect(s.queues.reduce((a, x) => a + x.completed, 0)).toBe(total);
    expect(s.queues.reduce((a, x) => a + x.fetched, 0)).toBe(total);
    expect(s.queues.reduce((a, x) => a + x.errors, 0)).toBe(readErrors);
    expect(s.queues.every((x) => x.inFlight === 0 && x.peakInFlight >= 1 && x.peakInFlight <= 8)).toBe(true);
    expect(s.lastError).toMatchObject({ count: readErrors, lba: 0, opcode: Opcode.READ });
    const p = s.ops.read.latency.percentiles([1, 50, 99, 99.99]).map((x) => x.ns);
    expect([...p].sort((a, b) => a - b)).toEqual(p);
    expect(p[0]).toBeGreaterThanOrEqual(0);
  });

  it('flags a snapshot taken while the writer is mid-update', () => {
    const buffers = allocateControllerBuffers({ queues: 1, depth: 2 });
    const header = new Int32Array(buffers.stats, 0, 16);
    expect(readControllerStats(buffers.stats).consistent).toBe(true);
    Atomics.store(header, 3, 1); // sequence odd: the device is inside an update
    expect(readControllerStats(buffers.stats, 3).consistent).toBe(false);
  });
});
