import { describe, expect, it } from 'vitest';
import { StackControllers } from './stack-controllers.ts';
import { StoppableHost } from './stoppable-host.ts';
import { RamDisk } from '../../src/core/backends/ram-disk.ts';
import { ControllerDevice } from '../../src/core/controller/device.ts';
import { allocateControllerBuffers } from '../../src/core/controller/buffers.ts';
import { runWorkloadPolling } from '../../src/core/workload/run.ts';
import { createStopBuffer, requestStop } from '../guest-stop.ts';
import { expectDiskError } from '../../src/core/testing/disk-conformance.ts';

describe('StackControllers', () => {
  it('runs an inline randwrite + verify job with no mismatches and keeps its stats', async () => {
    const c = new StackControllers(new RamDisk({ sectors: 8192 }), 'ram');
    const result = await c.runInline({ queues: 2, depth: 8 }, { rw: 'randwrite', bs: 4096, iodepth: 8, queues: 2, ios: 400, verify: true });
    expect(result.aborted).toBeUndefined();
    expect(result.write.ios).toBe(400);
    expect(result.verify?.mismatches).toBe(0);
    expect(result.verify?.blocksChecked).toBeGreaterThan(0);
    const stats = c.stats()!;
    expect(stats.ops.write.ops).toBe(400);
    expect(stats.queues.reduce((n, q) => n + q.completed, 0)).toBe(400 + result.verify!.reads.ios);
    expect(stats.ops.write.latency.count).toBe(400);
  });

  it('stops a long inline job on request, ending it with aborted set', async () => {
    const c = new StackControllers(new RamDisk({ sectors: 8192 }), 'ram');
    const started = performance.now();
    const run = c.runInline({ queues: 1, depth: 4 }, { rw: 'randread', iodepth: 4, runtimeNs: 30e9 });
    setTimeout(() => c.stopInline(), 50);
    const result = await run;
    expect(result.aborted).toBe('controller shut down');
    expect(result.read.ios).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(5000);
    // The stop word is cleared for the next job.
    const again = await c.runInline({ queues: 1, depth: 4 }, { rw: 'read', ios: 10 });
    expect([again.aborted, again.read.ios]).toEqual([undefined, 10]);
  });

  it('attaches one controller at a time and detaches it', async () => {
    const c = new StackControllers(new RamDisk({ sectors: 64 }), 'ram');
    const buffers = c.attach({ queues: 1, depth: 4 });
    expect(buffers.control).toBeInstanceOf(SharedArrayBuffer);
    await expectDiskError(Promise.resolve().then(() => c.attach({ queues: 1, depth: 4 })), 'INVALID_INPUT');
    await c.detach();
    c.attach({ queues: 1, depth: 4 });
    await c.close();
  });
});

describe('StoppableHost', () => {
  it('ends a rate-limited job (nothing in flight, waiting on a timer) promptly', async () => {
    const buffers = allocateControllerBuffers({ queues: 1, depth: 4 });
    const device = new ControllerDevice(new RamDisk({ sectors: 1024 }), buffers);
    device.start();
    const stop = createStopBuffer();
    const run = runWorkloadPolling(new StoppableHost(buffers, stop), { rw: 'randwrite', rateIops: 20, runtimeNs: 30e9 });
    setTimeout(() => requestStop(stop), 120);
    const result = await run;
    expect(result.aborted).toBeDefined();
    expect(result.write.ios).toBeGreaterThanOrEqual(1);
    expect(result.write.ios).toBeLessThan(10);
    await device.stop();
  });
});
