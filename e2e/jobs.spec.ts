/**
 * Block jobs in the disk worker, in Chromium, through the persistence harness
 * (e2e/fixtures/persist.html):
 * - a backup and a mirror, each under a concurrent random-write workload, end bit-identical to
 *   the point-in-time state (backup) and to the guest's final state (mirror, after switch-over);
 * - a job that runs out of storage ends with QUOTA and leaves the source readable and unchanged
 *   (the quota is SIMULATED: the worker's test-only `setSimulatedQuota` makes its files throw
 *   QUOTA past a byte budget, because a test cannot shrink Chromium's real quota);
 * - export to raw and dynamic VHD, then re-import (raw) or reopen (VHD), reads identically; so
 *   does an export to qcow2;
 * - an incremental backup chain (a full VHD backup, writes, an incremental differencing VHD taken
 *   while the guest keeps writing) reopened as a chain reads the second point in time, and the
 *   full backup alone the first.
 * Every random choice comes from a fixed seed, so a failure replays.
 */
import { expect, test } from '@playwright/test';
import type { Persist } from './fixtures/persist-harness.ts';
import { openHarness } from './fixtures/open-harness.ts';
import type { JobRequest } from '../workers/storage-api.ts';

const MiB = 1 << 20;

test('backup and mirror under concurrent random writes end bit-identical to the expected state', async ({ page }) => {
  test.setTimeout(60_000);
  await openHarness(page);
  const out = await page.evaluate(async (MiB) => {
    const { persist } = globalThis as unknown as { persist: Persist };
    const { disk, kill } = persist.start();
    await persist.removeImages(disk, ['e2e-backup.img', 'e2e-mirror.img']);
    let state = 12345;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const sectors = (2 * MiB) / 512;
    const spec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors } }] } as const;
    const randomWrite = async (id: string, model?: Uint8Array) => {
      const lba = rand(sectors - 16);
      const count = 1 + rand(16);
      const v = 1 + rand(255);
      await persist.shell(disk, id, `write -P ${v} ${lba * 512} ${count * 512}`);
      model?.fill(v, lba * 512, (lba + count) * 512);
    };
    const ended = (s: string) => s === 'completed' || s === 'failed' || s === 'cancelled';
    const result: Record<string, unknown> = {};

    // Backup: the target must hold the disk as it was when the job started.
    const a = await disk.openStack(spec, 'backup-src');
    await persist.shell(disk, a.id, `write -P 17 0 ${2 * MiB}`);
    for (let i = 0; i < 20; i++) await randomWrite(a.id);
    const pointInTime = await persist.readAll(disk, a.id);
    const backup = await disk.startJob(a.id, { kind: 'backup', target: 'e2e-backup.img' }, { speedLimit: 4 * MiB });
    let duringBackup = 0;
    while (!ended((await disk.listJobs()).find((j) => j.id === backup.id)!.state)) {
      await randomWrite(a.id);
      duringBackup++;
    }
    const b = await disk.waitForJob(backup.id);
    await disk.closeStack(a.id);
    const backupImage = await disk.openStack({ kind: 'opfs', path: b.output!.path, readOnly: true }, 'backup');
    result['backup'] = { state: b.state, error: b.error, writes: duringBackup, diff: persist.firstDiff(await persist.readAll(disk, backupImage.id), pointInTime) };
    await disk.closeStack(backupImage.id);

    // Mirror: the target must end as the guest's final state (writes before and after switch-over).
    const m = await disk.openStack(spec, 'mirror-src');
    await persist.shell(disk, m.id, `write -P 34 0 ${MiB}`);
    const model = await persist.readAll(disk, m.id);
    const mirror = await disk.startJob(m.id, { kind: 'mirror', target: 'e2e-mirror.img' }, { speedLimit: 8 * MiB });
    let duringMirror = 0;
    let completeAsked = false;
    for (;;) {
      const j = (await disk.listJobs()).find((x) => x.id === mirror.id)!;
      if (ended(j.state)) break;
      if (j.state === 'ready' && !completeAsked && duringMirror > 20) {
        await disk.jobControl(mirror.id, 'complete');
        completeAsked = true;
      }
      // Paced below the job's limit (a mirror converges only when the guest dirties granules
      // slower than it copies them, as in QEMU), and capped so the job always gets there.
      if (duringMirror < 150 || completeAsked) {
        await randomWrite(m.id, model);
        duringMirror++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; i < 10; i++) await randomWrite(m.id, model); // after the switch: into the image
    const mj = await disk.waitForJob(mirror.id);
    await disk.closeStack(m.id);
    const mirrorImage = await disk.openStack({ kind: 'opfs', path: mj.output!.path, readOnly: true }, 'mirror');
    result['mirror'] = { state: mj.state, error: mj.error, writes: duringMirror, diff: persist.firstDiff(await persist.readAll(disk, mirrorImage.id), model) };
    await disk.closeStack(mirrorImage.id);
    await persist.removeImages(disk, ['e2e-backup.img', 'e2e-mirror.img']);
    kill();
    return result;
  }, MiB);
  expect(out['backup']).toMatchObject({ state: 'completed', diff: -1 });
  expect((out['backup'] as { writes: number }).writes).toBeGreaterThan(5);
  expect(out['mirror']).toMatchObject({ state: 'completed', diff: -1 });
  expect((out['mirror'] as { writes: number }).writes).toBeGreaterThan(20);
});

test('a job that exhausts a (simulated) quota fails with QUOTA and leaves the source readable and unchanged', async ({ page }) => {
  await openHarness(page);
  const out = await page.evaluate(async (MiB) => {
    const { persist } = globalThis as unknown as { persist: Persist };
    const { disk, kill } = persist.start();
    await persist.removeImages(disk, ['e2e-quota.img', 'e2e-quota-backup.img']);
    const spec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: (4 * MiB) / 512 } }] } as const;
    const s = await disk.openStack(spec, 'quota-src');
    await persist.shell(disk, s.id, `write -P 51 0 ${4 * MiB}`);
    const before = await persist.readAll(disk, s.id);
    await disk.setSimulatedQuota(MiB);
    try {
      const started = await disk.startJob(s.id, { kind: 'export', target: 'e2e-quota.img', format: 'raw' });
      const job = await disk.waitForJob(started.id);
      const backupRefused = await disk.startJob(s.id, { kind: 'backup', target: 'e2e-quota-backup.img' }).then(
        () => 'started',
        (e: { code?: string }) => e.code,
      );
      const after = await persist.readAll(disk, s.id);
      const names = (await disk.listImages()).map((i) => i.name);
      return {
        state: job.state, code: job.error?.code, message: job.error?.message, backupRefused,
        diff: persist.firstDiff(after, before), leftovers: names.filter((n) => n.startsWith('e2e-quota')),
      };
    } finally {
      await disk.setSimulatedQuota(undefined);
      await disk.closeStack(s.id);
      kill();
    }
  }, MiB);
  expect(out).toMatchObject({ state: 'failed', code: 'QUOTA', backupRefused: 'QUOTA', diff: -1, leftovers: [] });
  expect(out.message).toContain('quota');
});

test('export to raw and dynamic VHD round-trips: re-imported or reopened, it reads identically', async ({ page }) => {
  await openHarness(page);
  const out = await page.evaluate(async (MiB) => {
    const { persist } = globalThis as unknown as { persist: Persist };
    const { disk, kill } = persist.start();
    const names = ['e2e-rt.img', 'e2e-rt-imported.img', 'e2e-rt.vhd'];
    await persist.removeImages(disk, names);
    const spec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors: (4 * MiB) / 512 } }] } as const;
    const s = await disk.openStack(spec, 'rt-src');
    for (let i = 0; i < 40; i++) await persist.shell(disk, s.id, `write -P ${1 + ((i * 37) % 255)} ${((i * 9973) % 8000) * 512} ${(1 + (i % 30)) * 512}`);
    const expected = await persist.readAll(disk, s.id);

    const raw = await disk.waitForJob((await disk.startJob(s.id, { kind: 'export', target: 'e2e-rt.img', format: 'raw' })).id);
    const rawFile = await persist.opfsFile(raw.output!.path);
    const imported = await disk.importFile(rawFile, 'e2e-rt-imported.img');
    const back = await disk.openStack({ kind: 'opfs', path: imported.path, readOnly: true }, 'rt-raw');
    const rawDiff = persist.firstDiff(await persist.readAll(disk, back.id), expected);
    await disk.closeStack(back.id);

    const vhd = await disk.waitForJob((await disk.startJob(s.id, { kind: 'export', target: 'e2e-rt.vhd', format: 'vhd' })).id);
    const vhdFile = await persist.opfsFile(vhd.output!.path);
    const reopened = await disk.openStack({ kind: 'blob', blob: vhdFile, name: 'e2e-rt.vhd' }, 'rt-vhd');
    const vhdDiff = persist.firstDiff(await persist.readAll(disk, reopened.id), expected);
    await disk.closeStack(reopened.id);
    await disk.closeStack(s.id);
    await persist.removeImages(disk, names);
    kill();
    return { raw: raw.state, rawSize: rawFile.size, rawDiff, vhd: vhd.state, vhdSize: vhdFile.size, vhdDiff, written: raw.bytesDone };
  }, MiB);
  expect(out).toMatchObject({ raw: 'completed', rawSize: 4 * MiB, rawDiff: -1, vhd: 'completed', vhdDiff: -1 });
});

test('qcow2 export and an incremental backup chain read the expected point-in-time data', async ({ page }) => {
  test.setTimeout(60_000);
  await openHarness(page);
  const out = await page.evaluate(async (MiB) => {
    const { persist } = globalThis as unknown as { persist: Persist };
    const { disk, kill } = persist.start();
    const names = ['e2e-q.qcow2', 'e2e-full.vhd', 'e2e-inc.vhd'];
    await persist.removeImages(disk, names);
    const start = (id: string, request: JobRequest, speedLimit?: number) =>
      disk.startJob(id, request, speedLimit === undefined ? {} : { speedLimit });
    let state = 777;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const sectors = (4 * MiB) / 512;
    const write = async (id: string) => {
      const lba = rand(sectors - 64);
      await persist.shell(disk, id, `write -P ${1 + rand(255)} ${lba * 512} ${(1 + rand(64)) * 512}`);
    };
    const spec = { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk: { kind: 'ram', sectors } }] } as const;
    const s = await disk.openStack(spec, 'chain-src');
    for (let i = 0; i < 30; i++) await write(s.id);

    const q = await disk.waitForJob((await start(s.id, { kind: 'export', target: 'e2e-q.qcow2', format: 'qcow2' })).id);
    const exported = await persist.readAll(disk, s.id);
    const qFile = await persist.opfsFile(q.output!.path);
    const qStack = await disk.openStack({ kind: 'blob', blob: qFile, name: 'e2e-q.qcow2' }, 'q');
    const qDiff = persist.firstDiff(await persist.readAll(disk, qStack.id), exported);
    await disk.closeStack(qStack.id);

    const refused = await start(s.id, { kind: 'backup', target: 'e2e-inc.vhd', mode: 'incremental' }).then(
      () => 'started',
      (e: { code?: string }) => e.code ?? 'error',
    );
    const first = await persist.readAll(disk, s.id);
    const full = await disk.waitForJob((await start(s.id, { kind: 'backup', target: 'e2e-full.vhd', mode: 'full' })).id);
    for (let i = 0; i < 25; i++) await write(s.id);
    const second = await persist.readAll(disk, s.id);
    const incJob = await start(s.id, { kind: 'backup', target: 'e2e-inc.vhd', mode: 'incremental' }, 2 * MiB);
    let during = 0;
    const ended = (x: string) => x === 'completed' || x === 'failed' || x === 'cancelled';
    while (!ended((await disk.listJobs()).find((j) => j.id === incJob.id)!.state)) {
      await write(s.id);
      during++;
    }
    const inc = await disk.waitForJob(incJob.id);
    const fullFile = await persist.opfsFile(full.output!.path);
    const incFile = await persist.opfsFile(inc.output!.path);
    const chain = await disk.openStack({ kind: 'blob', blob: incFile, name: 'e2e-inc.vhd', parents: [{ blob: fullFile, name: 'e2e-full.vhd' }] }, 'chain');
    const chainDiff = persist.firstDiff(await persist.readAll(disk, chain.id), second);
    await disk.closeStack(chain.id);
    const alone = await disk.openStack({ kind: 'blob', blob: fullFile, name: 'e2e-full.vhd' }, 'full');
    const fullDiff = persist.firstDiff(await persist.readAll(disk, alone.id), first);
    await disk.closeStack(alone.id);
    await disk.closeStack(s.id);
    await persist.removeImages(disk, names);
    kill();
    return {
      q: q.state, qDiff, refused, full: full.state, inc: inc.state, incError: inc.error, during, chainDiff, fullDiff,
      incBytes: inc.bytesTotal, fullBytes: full.bytesTotal, incSize: incFile.size, fullSize: fullFile.size,
    };
  }, MiB);
  expect(out).toMatchObject({ q: 'completed', qDiff: -1, refused: 'INVALID_INPUT', full: 'completed', inc: 'completed', chainDiff: -1, fullDiff: -1 });
  expect(out.during).toBeGreaterThan(0);
  // The increment copies only the granules written since the full backup.
  expect(out.incBytes).toBeLessThan(out.fullBytes);
});
