// The fio-like workload driving a same-thread controller in polling mode.
import { afterEach, describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { ForwardingDisk } from '../decorators/forwarding-disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import type { Disk } from '../disk/disk.ts';
import { allocateControllerBuffers } from '../controller/buffers.ts';
import { ControllerDevice } from '../controller/device.ts';
import { ControllerHost } from '../controller/host.ts';
import { runWorkloadPolling } from './run.ts';
import { VerifyState } from './verify.ts';
import { formatResult } from './results.ts';
import type { JobSpec } from './job.ts';

const devices: ControllerDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
});

function controller(disk: Disk, queues = 2, depth = 16): ControllerHost {
  const buffers = allocateControllerBuffers({ queues, depth, guestMemoryBytes: 4 << 20 });
  const device = new ControllerDevice(disk, buffers);
  devices.push(device);
  device.start();
  return new ControllerHost(buffers);
}

/** Records every I/O that reaches the disk. */
class Recorder extends ForwardingDisk {
  readonly log: { op: 'r' | 'w'; lba: number; sectors: number }[] = [];
  override read(lba: number, buf: Uint8Array): Promise<void> {
    this.log.push({ op: 'r', lba, sectors: buf.length / this.sectorSize });
    return this.inner.read(lba, buf);
  }
  override write(lba: number, data: Uint8Array): Promise<void> {
    this.log.push({ op: 'w', lba, sectors: data.length / this.sectorSize });
    return this.inner.write(lba, data);
  }
}

describe('workload', () => {
  it('runs a verified randwrite at QD16 x 2 queues with zero mismatches and a fio-like summary', async () => {
    const host = controller(new RamDisk({ sectors: 8192 }));
    const r = await runWorkloadPolling(host, { rw: 'randwrite', bs: 4096, iodepth: 16, queues: 2, size: 2 << 20, verify: true, ios: 2000 });
    expect(r.write).toMatchObject({ ios: 2000, bytes: 2000 * 4096, errors: 0 });
    expect(r.read.ios).toBe(0);
    expect(r.verify!.mismatches).toBe(0);
    expect(r.verify!.blocksChecked).toBeGreaterThan(300); // 512 blocks, 2000 uniform draws: ~98% touched
    expect(r.verify!.blocksChecked).toBe(r.verify!.reads.ios);
    expect(r.write.clat.minNs).toBeLessThanOrEqual(r.write.clat.meanNs);
    expect(r.write.clat.percentiles).toHaveLength(17);
    expect(r.write.iops).toBeGreaterThan(0);
    const text = formatResult(r);
    expect(text).toMatch(/write: IOPS=.*BW=/);
    expect(text).toMatch(/99\.99th=\[/);
    expect(text).toMatch(/verify: \d+ blocks checked, 0 mismatches/);
    expect(host.memory.used).toBe(0); // buffers returned
  });

  it('draws the same bs-aligned offsets in range for the same seed, different ones for another', async () => {
    const trace = async (seed: number) => {
      const rec = new Recorder(new RamDisk({ sectors: 4096 }));
      const host = controller(rec, 1, 4);
      await runWorkloadPolling(host, { rw: 'randrw', bs: 8192, iodepth: 1, offset: 65536, size: 1 << 20, ios: 300, seed });
      return rec.log;
    };
    const a = await trace(7);
    expect(await trace(7)).toEqual(a);
    expect(await trace(8)).not.toEqual(a);
    for (const { lba, sectors } of a) {
      expect(sectors).toBe(16);
      expect((lba * 512 - 65536) % 8192).toBe(0);
      expect(lba * 512).toBeGreaterThanOrEqual(65536);
      expect(lba * 512 + 8192).toBeLessThanOrEqual(65536 + (1 << 20));
    }
    const reads = a.filter((e) => e.op === 'r').length;
    expect(reads).toBeGreaterThan(110); // rwmixread 50 of 300
    expect(reads).toBeLessThan(190);
  });

  it('runs sequential jobs in order, wrapping at the end of the range', async () => {
    const rec = new Recorder(new RamDisk({ sectors: 1024 }));
    const host = controller(rec, 1, 1);
    await runWorkloadPolling(host, { rw: 'read', bs: 4096, size: 4 * 4096, ios: 6 });
    expect(rec.log.map((e) => e.lba)).toEqual([0, 8, 16, 24, 0, 8]);
  });

  it('honours rwmixread', async () => {
    const host = controller(new RamDisk({ sectors: 8192 }));
    const r = await runWorkloadPolling(host, { rw: 'randrw', rwmixread: 80, iodepth: 8, ios: 2000 });
    expect(r.read.ios + r.write.ios).toBe(2000);
    expect(r.read.ios / 2000).toBeGreaterThan(0.75);
    expect(r.read.ios / 2000).toBeLessThan(0.85);
  });

  it('reports every corrupted block with its LBA and what is wrong, without stopping at the first', async () => {
    const disk = new RamDisk({ sectors: 2048 });
    const host = controller(disk);
    const state = new VerifyState(0, 4096);
    const job: JobSpec = { rw: 'write', bs: 4096, size: 256 * 4096, iodepth: 4, verify: true };
    const first = await runWorkloadPolling(host, job, { verifyState: state });
    expect(first.verify!).toMatchObject({ blocksChecked: 256, mismatches: 0 });
    const block = (i: number) => {
      const b = new Uint8Array(4096);
      return { b, read: () => disk.read(i * 8, b), write: () => disk.write(i * 8, b) };
    };
    const stale = block(10);
    await stale.read(); // generation as of the first pass
    await runWorkloadPolling(host, job, { verifyState: state }); // every block rewritten, newer generations
    await stale.write(); // a lost write: block 10 back to old data
    const flip = block(20);
    await flip.read();
    flip.b[1000]! ^= 1;
    await flip.write(); // a bit flip
    const moved = block(31);
    await moved.read();
    await disk.write(30 * 8, moved.b); // block 31's data landed at block 30
    await disk.write(40 * 8, new Uint8Array(4096)); // zeroed
    const check = await runWorkloadPolling(host, { rw: 'read', bs: 4096, size: 256 * 4096, iodepth: 8, queues: 2, verify: true }, { verifyState: state });
    expect(check.verify!.blocksChecked).toBe(256);
    expect(check.verify!.mismatches).toBe(4);
    const byLba = Object.fromEntries(check.verify!.reports.map((m) => [m.lba, m.kind]));
    expect(byLba).toEqual({ 80: 'generation', 160: 'checksum', 240: 'lba', 320: 'magic' });
  });

  it('counts failed I/Os by NVMe status and keeps going', async () => {
    const host = controller(new RamDisk({ sectors: 1024, readOnly: true }));
    const r = await runWorkloadPolling(host, { rw: 'randrw', iodepth: 4, ios: 200 });
    expect(r.write.ios).toBe(0);
    expect(r.write.errors).toBeGreaterThan(50);
    expect(r.write.errorsByStatus).toEqual({ 'Attempted Write to Read Only Range (SCT 0x1, SC 0x82)': r.write.errors });
    expect(r.read.ios + r.write.errors).toBe(200);
    expect(formatResult(r)).toMatch(/errors: \d+ x Attempted Write/);
  });

  it('limits the rate and stops at the runtime', async () => {
    const host = controller(new RamDisk({ sectors: 1024 }));
    const start = performance.now();
    const limited = await runWorkloadPolling(host, { rw: 'randread', iodepth: 4, ios: 60, rateIops: 2000 });
    expect(performance.now() - start).toBeGreaterThanOrEqual(25); // 60 I/Os at 2000/s: >= 29.5 ms of spacing
    expect(limited.read.iops).toBeLessThan(2300);
    const timed = await runWorkloadPolling(host, { rw: 'randread', iodepth: 2, runtimeNs: 30e6 });
    expect(timed.runtimeNs).toBeGreaterThanOrEqual(30e6);
    expect(timed.runtimeNs).toBeLessThan(1e9);
    expect(timed.read.ios).toBeGreaterThan(10);
  });

  it('drains I/O still in flight at the end of the runtime without spinning', async () => {
    class Slow extends ForwardingDisk {
      override async read(lba: number, buf: Uint8Array): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return this.inner.read(lba, buf);
      }
    }
    const host = controller(new Slow(new RamDisk({ sectors: 1024 })), 1, 8);
    const r = await runWorkloadPolling(host, { rw: 'randread', iodepth: 8, runtimeNs: 2e6 });
    expect(r.read.ios).toBe(8); // the first batch, issued before the deadline, all completed
    expect(r.runtimeNs).toBeGreaterThanOrEqual(5e6);
  });

  it('rejects impossible jobs naming the field', async () => {
    const host = controller(new RamDisk({ sectors: 64 }), 1, 4);
    const cases: [JobSpec, string][] = [
      [{ rw: 'randread', bs: 1000 }, 'bs'],
      [{ rw: 'randread', iodepth: 5 }, 'iodepth'],
      [{ rw: 'randread', queues: 2 }, 'queues'],
      [{ rw: 'randread', offset: 100 }, 'offset'],
      [{ rw: 'randread', size: 64 * 512 + 4096 }, 'size'],
      [{ rw: 'randread', bs: 4096, iodepth: 4, size: 3 * 4096 }, 'size'],
      [{ rw: 'randrw', rwmixread: 120 }, 'rwmixread'],
      [{ rw: 'trim' as 'read' }, 'rw'],
    ];
    for (const [spec, field] of cases) {
      await expect(runWorkloadPolling(host, spec)).rejects.toSatisfy((e) => e instanceof DiskConfigError && e.field === field);
    }
  });
});
