/**
 * The workers backbone in Chromium, through a test-only page (e2e/fixtures/workers.html) that
 * starts the real disk and guest workers and wraps them with Comlink as the app does:
 * typed errors across the boundary, OPFS locking between tabs, import with progress, a Blob
 * image under a RAM diff, and a controller driven by the guest worker (and the inline fallback
 * on a page that is not cross-origin isolated).
 */
import { expect, test, type Page } from '@playwright/test';
import type { Lab } from './fixtures/workers-harness.ts';

const HARNESS = '/e2e/fixtures/workers.html';

async function openHarness(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(HARNESS);
  await expect(page.getByRole('status')).toHaveText('ready');
  expect(errors).toEqual([]);
}

/** Removes an OPFS image if it exists (leftovers of an earlier failed run). */
async function removeImage(page: Page, name: string): Promise<void> {
  await page.evaluate(async (name) => {
    const { lab } = globalThis as unknown as { lab: Lab };
    if ((await lab.disk.listImages()).some((i) => i.name === name)) await lab.disk.deleteImage(name);
  }, name);
}

test('a DiskError from the worker arrives on the page as a DiskError with its code and LBA', async ({ page }) => {
  await openHarness(page);
  const outcome = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const info = await lab.disk.openStack({ kind: 'ram', sectors: 64 }, 'ram');
    const caught = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const range = await caught(lab.disk.readSectors(info.id, 100, 1));
    const config = await caught(lab.disk.openStack({ kind: 'layered', layers: [{ kind: 'ram-layer' }] }, 'bad'));
    const unknown = await caught(lab.disk.stackInfo('stack-none'));
    await lab.disk.closeStack(info.id);
    const d = range as InstanceType<typeof lab.DiskError>;
    const c = config as InstanceType<typeof lab.DiskConfigError>;
    return {
      range: { isDiskError: range instanceof lab.DiskError, code: d.code, lba: d.lba, message: d.message },
      config: { isConfigError: config instanceof lab.DiskConfigError, problem: c.problem, field: c.field, layerIndex: c.layerIndex },
      unknown: (unknown as InstanceType<typeof lab.DiskError>).code,
    };
  });
  expect(outcome.range).toMatchObject({ isDiskError: true, code: 'OUT_OF_RANGE', lba: 100 });
  expect(outcome.range.message).toContain('beyond the end');
  expect(outcome.config).toEqual({ isConfigError: true, problem: 'INVALID_PARAMETER', field: 'layers', layerIndex: 0 });
  expect(outcome.unknown).toBe('INVALID_INPUT');
});

test('an OPFS image open in one tab is LOCKED in a second tab, promptly, until the first closes it', async ({ page, context }) => {
  await openHarness(page);
  await removeImage(page, 'lock-test.img');
  const stackId = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const entry = await lab.disk.createImage('lock-test.img', 1 << 20, 'raw');
    return (await lab.disk.openStack({ kind: 'opfs', path: entry.path }, 'locked')).id;
  });
  const second = await context.newPage();
  await openHarness(second);
  const attempt = () =>
    second.evaluate(async () => {
      const { lab } = globalThis as unknown as { lab: Lab };
      const started = performance.now();
      try {
        const info = await lab.disk.openStack({ kind: 'opfs', path: 'disklab/lock-test.img' }, 'second');
        await lab.disk.closeStack(info.id);
        return { ok: true, ms: performance.now() - started };
      } catch (e) {
        const d = e as InstanceType<typeof lab.DiskError>;
        return { ok: false, isDiskError: e instanceof lab.DiskError, code: d.code, message: d.message, ms: performance.now() - started };
      }
    });
  const locked = await attempt();
  expect(locked).toMatchObject({ ok: false, isDiskError: true, code: 'LOCKED' });
  expect(locked.message).toContain('open elsewhere');
  expect(locked.ms).toBeLessThan(5000);
  await page.evaluate(async (id) => {
    const { lab } = globalThis as unknown as { lab: Lab };
    await lab.disk.closeStack(id);
  }, stackId);
  expect((await attempt()).ok).toBe(true);
  // Read-only opens share the file; a writable open is still refused while one is held.
  const open = (p: Page, readOnly: boolean) =>
    p.evaluate(async (readOnly) => {
      const { lab } = globalThis as unknown as { lab: Lab };
      return lab.disk.openStack({ kind: 'opfs', path: 'disklab/lock-test.img', readOnly }, 'ro').then(
        (info) => ({ id: info.id, readOnly: info.readOnly, code: undefined }),
        (e: InstanceType<typeof lab.DiskError>) => ({ id: undefined, readOnly: undefined, code: e.code }),
      );
    }, readOnly);
  const readerA = await open(page, true);
  const readerB = await open(second, true);
  expect([readerA.readOnly, readerB.readOnly]).toEqual([true, true]);
  expect((await open(second, false)).code).toBe('LOCKED');
  for (const [p, id] of [[page, readerA.id], [second, readerB.id]] as const) {
    await p.evaluate(async (id) => {
      const { lab } = globalThis as unknown as { lab: Lab };
      await lab.disk.closeStack(id!);
    }, id);
  }
  await removeImage(second, 'lock-test.img');
});

test('importing a Blob into OPFS reports progress and the image reads back the same bytes', async ({ page }) => {
  await openHarness(page);
  await removeImage(page, 'import-test.img');
  await removeImage(page, 'bad.vhdx');
  const r = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const size = 9 * 1024 * 1024 + 512; // three 4 MiB chunks, the last partial
    const bytes = new Uint8Array(size);
    let x = 12345;
    for (let i = 0; i < size; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    const progress: Array<{ doneBytes: number; totalBytes: number }> = [];
    const entry = await lab.disk.importFile(new Blob([bytes]), 'import-test.img', lab.proxy((p: { doneBytes: number; totalBytes: number }) => void progress.push({ doneBytes: p.doneBytes, totalBytes: p.totalBytes })));
    await new Promise((resolve) => setTimeout(resolve, 200)); // progress calls are not awaited by the worker
    const listed = (await lab.disk.listImages()).find((i) => i.name === 'import-test.img');
    const stack = await lab.disk.openStack({ kind: 'opfs', path: entry.path }, 'imported');
    const mismatches: number[] = [];
    for (const lba of [0, 8191, 8192, 16384, size / 512 - 1]) {
      const dump = await lab.disk.readSectors(stack.id, lba, 1);
      if (dump.data.some((b, i) => b !== bytes[lba * 512 + i])) mismatches.push(lba);
    }
    await lab.disk.closeStack(stack.id);
    const vhdx = new Uint8Array(8192);
    vhdx.set(new TextEncoder().encode('vhdxfile'));
    const refused = await lab.disk.importFile(new Blob([vhdx]), 'bad.vhdx').then(() => 'imported', (e: InstanceType<typeof lab.DiskError>) => e.code);
    const names = (await lab.disk.listImages()).map((i) => i.name);
    await lab.disk.deleteImage('import-test.img');
    return { entry, listed, progress, mismatches, sectorCount: stack.sectorCount, refused, names, size };
  });
  expect(r.entry).toEqual({ name: 'import-test.img', path: 'disklab/import-test.img', sizeBytes: r.size, format: 'raw' });
  expect(r.listed).toEqual(r.entry);
  expect(r.progress.length).toBeGreaterThanOrEqual(4);
  expect(r.progress[0]).toEqual({ doneBytes: 0, totalBytes: r.size });
  expect(r.progress.at(-1)).toEqual({ doneBytes: r.size, totalBytes: r.size });
  const done = r.progress.map((p) => p.doneBytes);
  expect(done).toEqual([...done].sort((a, b) => a - b));
  expect(r.sectorCount).toBe(r.size / 512);
  expect(r.mismatches).toEqual([]);
  expect(r.refused).toBe('CORRUPT_IMAGE'); // a VHDX signature with no headers behind it is refused before any copy
  expect(r.names).not.toContain('bad.vhdx');
});

test('a Blob fixed VHD opens read-only, takes writes in a RAM diff, and the Blob never changes', async ({ page }) => {
  await openHarness(page);
  const r = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const blob = await (await fetch('/sample.vhd')).blob();
    const before = new Uint8Array(await blob.slice(0, 8192).arrayBuffer());
    const opened = await lab.disk.openStack({ kind: 'blob', blob, name: 'sample.vhd' }, 'sample');
    const refused = await lab.disk.runShell(opened.id, 'write -P 0xab 0 4096');
    const info = await lab.disk.addOverlay(opened.id, { kind: 'ram-diff' });
    const write = await lab.disk.runShell(opened.id, 'write -P 0xab 0 4096');
    const read = await lab.disk.runShell(opened.id, 'read -v 0 16');
    const dump = await lab.disk.readSectors(opened.id, 6, 4); // sectors 6, 7 are the diff's; 8, 9 the image's
    const part = await lab.disk.readSectors(opened.id, 2048, 1);
    const occupancy = await lab.disk.occupancy(opened.id, { buckets: 64 });
    const after = new Uint8Array(await blob.slice(0, 8192).arrayBuffer());
    const removed = await lab.disk.removeOverlay(opened.id, info.tree.children[0]!.id);
    const back = await lab.disk.readSectors(opened.id, 0, 1);
    await lab.disk.closeStack(opened.id);
    return {
      first: { readOnly: opened.readOnly, sectorCount: opened.sectorCount, label: opened.tree.label, layers: opened.layers.length },
      refusedOk: refused.ok,
      overlay: { readOnly: info.readOnly, layers: info.layers.map((l) => l.name) },
      write: write.ok,
      readLine: read.lines[0]?.text,
      sources: [...dump.sourceLayer],
      partText: new TextDecoder().decode(part.data.subarray(0, 40)),
      partSource: part.sourceLayer[0],
      occupancyTop: Array.from(occupancy.layers[0]!.map.subarray(0, 2)),
      unchanged: before.every((b, i) => b === after[i]),
      mbrText: new TextDecoder().decode(after.subarray(0, 19)),
      removedReadOnly: removed.readOnly,
      backFirst: back.data[0],
    };
  });
  expect(r.first).toEqual({ readOnly: true, sectorCount: 32768, label: 'fixed VHD: local file sample.vhd (read-only)', layers: 0 });
  expect(r.refusedOk).toBe(false);
  expect(r.overlay).toEqual({ readOnly: false, layers: ['RAM diff layer', 'disk layer (vhd-fixed)'] });
  expect(r.write).toBe(true);
  expect(r.readLine).toMatch(/^00000000:\s+ab ab ab ab/);
  expect(r.sources).toEqual([0, 0, 1, 1]);
  expect(r.partText).toBe('Disk Lab sample: partition 1 starts here');
  expect(r.partSource).toBe(1);
  expect(r.occupancyTop[0]).toBeGreaterThan(0);
  expect(r.occupancyTop[1]).toBe(0);
  expect(r.unchanged).toBe(true);
  expect(r.mbrText).toBe('Disk Lab sample MBR');
  expect(r.removedReadOnly).toBe(true);
  expect(r.backFirst).toBe('D'.charCodeAt(0));
});

test('a controller on a RAM stack runs randwrite + verify from the guest worker with zero mismatches, and stops on request', async ({ page }) => {
  test.setTimeout(60_000);
  await openHarness(page);
  const r = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const stack = await lab.disk.openStack({ kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: 131072 } }] }, 'ram');
    const buffers = await lab.disk.attachController(stack.id, { queues: 2, depth: 16 });
    const stop = lab.createStopBuffer();
    await lab.guest.attach(buffers, stop);
    const result = await lab.guest.run({ rw: 'randwrite', bs: 4096, iodepth: 16, queues: 2, ios: 4000, verify: true });
    const stats = lab.readControllerStats(buffers.stats);
    const viaApi = await lab.disk.controllerStats(stack.id);
    const info = await lab.disk.stackInfo(stack.id);
    // A 30 s job, stopped from the page while the guest is blocked in Atomics.wait.
    const started = performance.now();
    const long = lab.guest.run({ rw: 'randread', iodepth: 8, runtimeNs: 30e9 });
    setTimeout(() => lab.requestStop(stop), 300);
    const stopped = await long;
    const elapsed = performance.now() - started;
    await lab.disk.detachController(stack.id);
    await lab.disk.closeStack(stack.id);
    return {
      writes: result.write.ios,
      writeErrors: result.write.errors,
      verify: result.verify && { checked: result.verify.blocksChecked, mismatches: result.verify.mismatches },
      aborted: result.aborted,
      completed: stats.queues.reduce((n, q) => n + q.completed, 0),
      statsWrites: stats.ops.write.ops,
      p50: stats.ops.write.latency.percentile(50),
      apiWrites: viaApi?.ops.write.ops,
      apiP99: viaApi?.ops.write.latency.percentile(99),
      topBytes: info.layers[0]?.bytesPresent,
      served: info.layers.map((l) => l.servedSectors),
      stopped: { aborted: stopped.aborted, reads: stopped.read.ios, elapsed },
    };
  });
  expect(r.writes).toBe(4000);
  expect(r.writeErrors).toBe(0);
  expect(r.aborted).toBeUndefined();
  expect(r.verify?.mismatches).toBe(0);
  expect(r.verify?.checked).toBeGreaterThan(0);
  expect(r.statsWrites).toBe(4000);
  expect(r.completed).toBeGreaterThanOrEqual(4000 + (r.verify?.checked ?? 0));
  expect(r.p50).toBeGreaterThan(0);
  expect(r.apiWrites).toBe(4000);
  expect(r.apiP99).toBeGreaterThan(0);
  expect(r.topBytes).toBeGreaterThan(0);
  expect(r.served[0]).toBeGreaterThan(0); // verify reads were served by the RAM diff
  expect(r.stopped.aborted).toBe('controller shut down');
  expect(r.stopped.reads).toBeGreaterThan(0);
  expect(r.stopped.elapsed).toBeLessThan(5000);
});

test('without cross-origin isolation, the inline workload runs in the disk worker and its stats come over Comlink', async ({ page }) => {
  // Serve the harness without COOP/COEP: the page loses SharedArrayBuffer, as on a plain host.
  await page.route('**/e2e/fixtures/workers.html', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  await openHarness(page);
  const r = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const stack = await lab.disk.openStack({ kind: 'ram', sectors: 65536 }, 'ram');
    const result = await lab.disk.runWorkloadInline(stack.id, { queues: 1, depth: 8 }, { rw: 'randwrite', iodepth: 8, ios: 1000, verify: true });
    const stats = await lab.disk.controllerStats(stack.id);
    const long = lab.disk.runWorkloadInline(stack.id, { queues: 1, depth: 8 }, { rw: 'randread', iodepth: 8, runtimeNs: 30e9 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await lab.disk.stopInlineWorkload(stack.id);
    const stopped = await long;
    await lab.disk.closeStack(stack.id);
    return {
      isolated: globalThis.crossOriginIsolated,
      sab: typeof SharedArrayBuffer,
      mismatches: result.verify?.mismatches,
      writes: result.write.ios,
      statsWrites: stats?.ops.write.ops,
      latencies: stats?.ops.write.latency.count,
      stopped: stopped.aborted,
    };
  });
  expect(r.isolated).toBe(false);
  expect(r.sab).toBe('undefined');
  expect(r.writes).toBe(1000);
  expect(r.mismatches).toBe(0);
  expect(r.statsWrites).toBe(1000);
  // Every write's latency reached the histogram. (Not p50 > 0: without cross-origin isolation the
  // browser coarsens performance.now() to 100 us, and a RAM write can honestly measure 0.)
  expect(r.latencies).toBe(1000);
  expect(r.stopped).toBe('controller shut down');
});
