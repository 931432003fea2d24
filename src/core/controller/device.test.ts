// The controller with device and guest on one thread: the guest polls (trySubmit, reap) and awaits
// interrupts with Atomics.waitAsync, never blocking, so the device loop gets to run.
import { afterEach, describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { ForwardingDisk } from '../decorators/forwarding-disk.ts';
import { DiskError } from '../disk/errors.ts';
import { pattern } from '../testing/disk-conformance.ts';
import { allocateControllerBuffers } from './buffers.ts';
import { STATUS_ABORTED_SQ_DELETION, describeStatus } from './completion-status.ts';
import { ControllerDevice, type ControllerDeviceOptions } from './device.ts';
import { ControllerHost, type Completion, type HostQueue } from './host.ts';
import { ControllerState, DB_SQ_TAIL, Opcode, encodeSqe, type Command } from './layout.ts';
import { readControllerStats } from './stats.ts';
import type { Disk } from '../disk/disk.ts';

const devices: ControllerDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.stop()));
});

function setup(disk: Disk, config = { queues: 2, depth: 8 }, options: ControllerDeviceOptions = {}) {
  const buffers = allocateControllerBuffers({ ...config, guestMemoryBytes: 1 << 20 });
  const device = new ControllerDevice(disk, buffers, options);
  devices.push(device);
  device.start();
  const host = new ControllerHost(buffers);
  return { buffers, device, host };
}

/** Waits (without blocking) until `n` completions arrived on `queue`. */
async function collect(host: ControllerHost, queue: HostQueue, n: number): Promise<Completion[]> {
  const out: Completion[] = [];
  while (out.length < n) {
    const seen = host.interruptCount(queue.vector);
    out.push(...queue.reap());
    if (out.length < n && (await host.waitInterruptAsync(queue.vector, seen, 2000)) === 'timed-out') {
      throw new Error(`timed out with ${out.length}/${n} completions`);
    }
  }
  return out;
}

async function run(host: ControllerHost, command: Command, queue = 0): Promise<Completion> {
  const q = host.queue(queue);
  const cid = q.trySubmit(command);
  expect(cid).toBeGreaterThanOrEqual(0);
  const [c] = await collect(host, q, 1);
  expect(c!.cid).toBe(cid);
  return c!;
}

/** A disk whose reads and writes wait until released, to hold commands in flight. */
class GatedDisk extends ForwardingDisk {
  readonly gates: (() => void)[] = [];
  override async read(lba: number, buf: Uint8Array): Promise<void> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return this.inner.read(lba, buf);
  }
}

describe('ControllerDevice on one thread', () => {
  it('publishes the namespace and moves data both ways', async () => {
    const { host } = setup(new RamDisk({ sectors: 2048, sectorSize: 4096 }));
    expect(host.namespace()).toEqual({ sectorSize: 4096, sectorCount: 2048, readOnly: false, fuaRespected: true, maxTransferBlocks: 65536 });
    const buf = host.memory.alloc(3 * 4096);
    const data = pattern(3 * 4096, 5);
    host.memory.view(buf, data.length).set(data);
    expect((await run(host, { opcode: Opcode.WRITE, lba: 2045, blocks: 3, fua: true, dataOffset: buf, dataLength: data.length })).status).toBe(0);
    host.memory.view(buf, data.length).fill(0);
    expect((await run(host, { opcode: Opcode.READ, lba: 2045, blocks: 3, dataOffset: buf, dataLength: data.length }, 1)).status).toBe(0);
    expect(host.memory.view(buf, data.length)).toEqual(data);
    expect((await run(host, { opcode: Opcode.FLUSH, lba: 0, blocks: 1 })).status).toBe(0);
    expect((await run(host, { opcode: Opcode.DSM, lba: 2046, blocks: 1 })).status).toBe(0);
    expect((await run(host, { opcode: Opcode.READ, lba: 2045, blocks: 3, dataOffset: buf, dataLength: data.length })).status).toBe(0);
    const after = host.memory.view(buf, data.length);
    expect(after.subarray(0, 4096)).toEqual(data.subarray(0, 4096));
    expect(after.subarray(4096, 8192).every((b) => b === 0)).toBe(true); // deallocated: RamDisk reads zeroes
    expect(after.subarray(8192)).toEqual(data.subarray(8192));
  });

  it('maps every failure to its NVMe status and sets Do Not Retry where a retry cannot help', async () => {
    const ro = setup(new RamDisk({ sectors: 64, readOnly: true })).host;
    const buf = ro.memory.alloc(4096);
    const write = await run(ro, { opcode: Opcode.WRITE, lba: 0, blocks: 1, dataOffset: buf, dataLength: 512 });
    expect([write.sct, write.sc, write.dnr]).toEqual([1, 0x82, true]);
    expect(describeStatus(write.status)).toBe('Attempted Write to Read Only Range (SCT 0x1, SC 0x82)');
    const { host } = setup(new RamDisk({ sectors: 64 }));
    const b = host.memory.alloc(4096);
    const statusOf = async (c: Command) => {
      const r = await run(host, c);
      return [r.sct, r.sc];
    };
    expect(await statusOf({ opcode: Opcode.READ, lba: 63, blocks: 2, dataOffset: b, dataLength: 1024 })).toEqual([0, 0x80]);
    expect(await statusOf({ opcode: Opcode.READ, lba: Number.MAX_SAFE_INTEGER, blocks: 1, dataOffset: b, dataLength: 512 })).toEqual([0, 0x80]);
    expect(await statusOf({ opcode: Opcode.DSM, lba: 60, blocks: 5 })).toEqual([0, 0x80]);
    expect(await statusOf({ opcode: Opcode.READ, lba: 0, blocks: 2, dataOffset: b, dataLength: 512 })).toEqual([0, 0x02]); // length != NLB
    expect(await statusOf({ opcode: Opcode.READ, lba: 0, blocks: 1, dataOffset: (1 << 20) - 256, dataLength: 512 })).toEqual([0, 0x02]);
    expect(await statusOf({ opcode: 0x7f, lba: 0, blocks: 1 } as unknown as Command)).toEqual([0, 0x01]);
  });

  it('reports a non-DiskError as Internal Error', async () => {
    class Buggy extends ForwardingDisk {
      override async flush(): Promise<void> {
        throw new TypeError('oops');
      }
    }
    const { host } = setup(new Buggy(new RamDisk({ sectors: 8 })));
    const c = await run(host, { opcode: Opcode.FLUSH, lba: 0, blocks: 1 });
    expect([c.sct, c.sc, c.dnr]).toEqual([0, 0x06, false]);
  });

  it('never writes guest memory for a read that fails, unless directReads is chosen', async () => {
    class HalfRead extends ForwardingDisk {
      override async read(_lba: number, buf: Uint8Array): Promise<void> {
        buf.fill(0xee, 0, buf.length / 2);
        throw new DiskError('MEDIUM_ERROR', 'bad sector', { lba: 1 });
      }
    }
    for (const directReads of [false, true]) {
      const { host } = setup(new HalfRead(new RamDisk({ sectors: 8 })), { queues: 1, depth: 2 }, { directReads });
      const b = host.memory.alloc(1024);
      host.memory.view(b, 1024).fill(0x11);
      const c = await run(host, { opcode: Opcode.READ, lba: 0, blocks: 2, dataOffset: b, dataLength: 1024 });
      expect([c.sct, c.sc]).toEqual([2, 0x81]);
      expect(host.memory.view(b, 1024)[0]).toBe(directReads ? 0xee : 0x11);
    }
  });

  it('runs a queue\'s commands concurrently up to its depth and completes them in the order they finish', async () => {
    const disk = new GatedDisk(new RamDisk({ sectors: 64 }));
    const { host, device, buffers } = setup(disk, { queues: 1, depth: 4 });
    const q = host.queue(0);
    const b = host.memory.alloc(4 * 512);
    const cids = [0, 1, 2, 3].map((i) => q.trySubmit({ opcode: Opcode.READ, lba: i, blocks: 1, dataOffset: b + i * 512, dataLength: 512 }));
    expect(q.trySubmit({ opcode: Opcode.FLUSH, lba: 0, blocks: 1 })).toBe(-1); // back-pressure: depth outstanding
    while (disk.gates.length < 4) await new Promise((r) => setTimeout(r, 1));
    expect(device.inFlight).toBe(4);
    expect(readControllerStats(buffers.stats).queues[0]).toMatchObject({ inFlight: 4, fetched: 4, peakInFlight: 4 });
    for (const g of disk.gates.splice(0).reverse()) g();
    const done = await collect(host, q, 4);
    expect(done.map((c) => c.cid)).toEqual([...cids].reverse());
  });

  it('wraps the rings many times (phase tags flip) without losing a completion', async () => {
    const { host } = setup(new RamDisk({ sectors: 64 }), { queues: 1, depth: 3 });
    const q = host.queue(0);
    const b = host.memory.alloc(512);
    let completed = 0;
    let submitted = 0;
    for (let round = 0; round < 50; round++) {
      const n = 1 + (round % 3);
      submitted += n;
      for (let i = 0; i < n; i++) expect(q.trySubmit({ opcode: Opcode.READ, lba: round % 64, blocks: 1, dataOffset: b, dataLength: 512 })).toBeGreaterThanOrEqual(0);
      const done = await collect(host, q, n);
      expect(done.every((c) => c.status === 0)).toBe(true);
      completed += done.length;
    }
    expect(submitted).toBeGreaterThan(20 * host.layout.entries);
    expect(completed).toBe(submitted);
    expect(q.outstanding).toBe(0);
  });

  it('stops cleanly: commands in flight finish, unfetched ones are aborted, then submissions are refused', async () => {
    const disk = new GatedDisk(new RamDisk({ sectors: 64 }));
    const { host, device } = setup(disk, { queues: 1, depth: 4 });
    const q = host.queue(0);
    const b = host.memory.alloc(512);
    q.trySubmit({ opcode: Opcode.READ, lba: 0, blocks: 1, dataOffset: b, dataLength: 512 });
    while (disk.gates.length < 1) await new Promise((r) => setTimeout(r, 1));
    const unfetched = q.trySubmit({ opcode: Opcode.FLUSH, lba: 0, blocks: 1 }); // device has not run since
    const stopped = device.stop();
    expect(host.state).toBe(ControllerState.SHUTTING_DOWN);
    disk.gates[0]!();
    await stopped;
    expect(host.state).toBe(ControllerState.SHUT_DOWN);
    const done = q.reap();
    expect(done.map((c) => [c.cid, c.status])).toEqual([
      [done[0]!.cid, 0],
      [unfetched, STATUS_ABORTED_SQ_DELETION],
    ]);
    expect(() => q.trySubmit({ opcode: Opcode.FLUSH, lba: 0, blocks: 1 })).toThrow(DiskError);
  });

  it('goes FATAL when the host rings a doorbell outside the ring', async () => {
    const { host, device, buffers } = setup(new RamDisk({ sectors: 8 }), { queues: 1, depth: 2 });
    const control = new Int32Array(buffers.control);
    encodeSqe(control, host.layout.sqeWord(0, 0), 0, { opcode: Opcode.FLUSH, lba: 0, blocks: 1 });
    const word = host.layout.doorbellWord(0, DB_SQ_TAIL);
    Atomics.store(control, word, 7);
    Atomics.notify(control, word);
    while (host.state === ControllerState.READY) await new Promise((r) => setTimeout(r, 1));
    expect(host.state).toBe(ControllerState.FATAL);
    expect(device.fatalReason).toMatch(/doorbell 7/);
  });
});
