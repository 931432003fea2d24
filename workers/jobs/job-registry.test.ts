import { describe, expect, it } from 'vitest';
import { JobRegistry } from './job-registry.ts';
import { LiveStack } from '../stack/live-stack.ts';
import type { SpecPlatform } from '../../src/core/resolve-spec.ts';
import type { DiskSpec } from '../../src/core/spec.ts';
import { DiskError } from '../../src/core/disk/errors.ts';
import { openDisk } from '../../src/core/disk/open-disk.ts';
import { memorySpecPlatform } from '../../src/core/testing/memory-spec-platform.ts';
import { expectSameBytes, pattern } from '../../src/core/testing/disk-conformance.ts';

const SECTORS = 2048;

/** Persistent layers in memory, no OPFS images. */
function platform(): SpecPlatform {
  return memorySpecPlatform({ layerStore: new Map() }).platform;
}

async function setUp(top: 'persistent-layer' | 'ram-layer') {
  const spec: DiskSpec = { kind: 'layered', layers: [top === 'ram-layer' ? { kind: 'ram-layer' } : { kind: 'persistent-layer', name: 'p' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: SECTORS } }] };
  const stack = await LiveStack.open('s1', 'stack', spec, platform());
  const registry = new JobRegistry((id) => {
    if (id !== 's1') throw new DiskError('INVALID_INPUT', `no stack ${id}`);
    return stack;
  });
  return { stack, jobs: registry.api(), guest: openDisk(stack.switchable) };
}

/** Random sector writes through the stack (as the guest would), applied to `model` too. */
async function writes(guest: ReturnType<typeof openDisk>, model: Uint8Array, n: number, seed: number): Promise<void> {
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const lba = s % (SECTORS - 8);
    const data = pattern(8 * 512, s);
    await guest.write(lba, data);
    model.set(data, lba * 512);
  }
}

async function readAll(guest: ReturnType<typeof openDisk>): Promise<Uint8Array> {
  const out = new Uint8Array(SECTORS * 512);
  await guest.read(0, out);
  return out;
}

describe('JobRegistry', () => {
  it('commits a persistent top layer down under live writes, then empties it; the stack reads the same', async () => {
    const { stack, jobs, guest } = await setUp('persistent-layer');
    const model = new Uint8Array(SECTORS * 512);
    await writes(guest, model, 200, 1);
    const started = await jobs.startJob('s1', { kind: 'commit' }, { speedLimit: 4 * 1024 * 1024 });
    expect(started.kind).toBe('commit');
    let during = 0;
    // A bounded burst of guest writes while it runs: a live commit converges once they stop
    // outpacing its limit (endless writes faster than the limit never converge, as in QEMU).
    while (!['completed', 'failed', 'cancelled'].includes((await jobs.listJobs())[0]!.state)) {
      if (during < 30) await writes(guest, model, 1, 1000 + during++);
      await new Promise((r) => setTimeout(r, 2));
    }
    const done = await jobs.waitForJob(started.id);
    expect(done.state).toBe('completed');
    expect(done.bytesDone).toBeGreaterThan(0);
    expect(during).toBeGreaterThan(0);
    expectSameBytes(await readAll(guest), model);
    // The stack is back on its full layered disk with an empty top that takes new writes.
    expect(stack.info().layers[0]!.bytesPresent).toBe(0);
    await writes(guest, model, 5, 77);
    expect(stack.info().layers[0]!.bytesPresent).toBeGreaterThan(0);
    expectSameBytes(await readAll(guest), model);
    await stack.close();
  });

  it('stops a commit when the stack is recomposed under it, keeping the diff layer and the data', async () => {
    const { stack, jobs, guest } = await setUp('persistent-layer');
    const model = new Uint8Array(SECTORS * 512);
    await writes(guest, model, 100, 5);
    const started = await jobs.startJob('s1', { kind: 'commit' }, { speedLimit: 256 * 1024 });
    await new Promise((r) => setTimeout(r, 20));
    await stack.addOverlay({ kind: 'delay', readUs: 0, writeUs: 0 });
    await writes(guest, model, 10, 6);
    const ended = await jobs.waitForJob(started.id);
    expect(ended.state).toBe('cancelled');
    expect(ended.note).toMatch(/stack changed/);
    expect(stack.info().layers[0]!.bytesPresent).toBeGreaterThan(0);
    expectSameBytes(await readAll(guest), model);
    await stack.close();
  });

  it('refuses commit over a RAM top layer and over a stack with overlays, touching nothing', async () => {
    const { stack, jobs, guest } = await setUp('ram-layer');
    const model = new Uint8Array(SECTORS * 512);
    await writes(guest, model, 20, 3);
    await expect(jobs.startJob('s1', { kind: 'commit' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await stack.addOverlay({ kind: 'delay', readUs: 0, writeUs: 0 });
    await expect(jobs.startJob('s1', { kind: 'stream' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expectSameBytes(await readAll(guest), model);
    await stack.close();
  });

  it('streams the base into the top layer; pause, resume and speed limit act on the running job', async () => {
    const { stack, jobs, guest } = await setUp('ram-layer');
    const model = new Uint8Array(SECTORS * 512);
    // Data in the base only: written straight into the lower layer, under the empty top.
    const base = stack.switchable.target as unknown as { layerInfo(): Array<{ layer: { write(lba: number, d: Uint8Array, o?: object): Promise<void> } }> };
    const data = pattern(SECTORS * 512, 9);
    await base.layerInfo()[1]!.layer.write(0, data, {});
    model.set(data);
    const started = await jobs.startJob('s1', { kind: 'stream' }, { speedLimit: 2 * 1024 * 1024 });
    await jobs.jobControl(started.id, 'pause');
    await new Promise((r) => setTimeout(r, 20));
    const paused = (await jobs.listJobs())[0]!;
    expect(['paused', 'running']).toContain(paused.state);
    await jobs.setJobSpeedLimit(started.id, undefined);
    await jobs.jobControl(started.id, 'resume');
    const done = await jobs.waitForJob(started.id);
    expect(done).toMatchObject({ state: 'completed', speedLimit: undefined });
    expect(stack.info().layers[0]!.bytesPresent).toBe(SECTORS * 512);
    expectSameBytes(await readAll(guest), model);
    await stack.close();
  });

  it('cancels a stack’s jobs when the stack is closing', async () => {
    const { stack } = await setUp('ram-layer');
    const base = stack.switchable.target as unknown as { layerInfo(): Array<{ layer: { write(lba: number, d: Uint8Array, o?: object): Promise<void> } }> };
    await base.layerInfo()[1]!.layer.write(0, pattern(SECTORS * 512, 5), {});
    const registry = new JobRegistry(() => stack);
    const started = await registry.api().startJob('s1', { kind: 'stream' }, { speedLimit: 64 * 1024 });
    await registry.stackClosing('s1');
    const ended = await registry.api().waitForJob(started.id);
    expect(ended.state).toBe('cancelled');
    expect(ended.error?.code).toBe('ABORTED');
    await stack.close();
  });
});
