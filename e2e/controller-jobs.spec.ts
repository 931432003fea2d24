/**
 * Successive guest jobs on one attached controller, in Chromium, through the real disk and guest
 * workers (e2e/fixtures/workers.html). The device keeps its ring positions across jobs; the guest
 * must take the rings up where they are. The sequence is the in-browser benchmark's: a fill at
 * QD4 leaves the rings mid-way (64 commands in rings of 33 slots), then a read at QD32 fills the
 * whole queue. Before the fix, that read hung with its first completion posted and never reaped
 * (CQ head stuck at 31). Re-attaching the guest to the same buffers takes the same path again.
 */
import { expect, test } from '@playwright/test';
import type { Lab } from './fixtures/workers-harness.ts';

test('jobs after jobs on one controller at full queue depth: every command runs once and every completion is reaped', async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto('/e2e/fixtures/workers.html');
  await expect(page.getByRole('status')).toHaveText('ready');
  const r = await page.evaluate(async () => {
    const { lab } = globalThis as unknown as { lab: Lab };
    const MiB = 1 << 20;
    const stack = await lab.disk.openStack({ kind: 'ram', sectors: (32 * MiB) / 512 }, 'jobs');
    const buffers = await lab.disk.attachController(stack.id, { queues: 1, depth: 32, guestMemoryBytes: 64 * MiB });
    // A hung job must fail this test with what the controller says, not stall it to its timeout.
    const within = async <T>(what: string, p: Promise<T>): Promise<T> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const q = lab.readControllerStats(buffers.stats).queues[0]!;
          reject(new Error(`${what} hung: fetched ${q.fetched} completed ${q.completed} in flight ${q.inFlight}`));
        }, 10_000);
      });
      try {
        return await Promise.race([p, hung]);
      } finally {
        clearTimeout(timer);
      }
    };
    const fill = { rw: 'write', bs: MiB, iodepth: 4, size: 32 * MiB, ios: 64 } as const;
    const read = { rw: 'randread', bs: 4096, iodepth: 32, size: 32 * MiB, ios: 3000, seed: 7 } as const;
    await lab.guest.attach(buffers);
    const results = [await within('fill', lab.guest.run(fill)), await within('QD32 read', lab.guest.run(read))];
    await lab.guest.attach(buffers); // the same controller again, as a page re-attaching would
    results.push(await within('fill after re-attach', lab.guest.run({ ...fill, ios: 5 })));
    results.push(await within('QD32 read after re-attach', lab.guest.run({ ...read, ios: 1000 })));
    const stats = lab.readControllerStats(buffers.stats);
    await lab.disk.detachController(stack.id);
    await lab.disk.closeStack(stack.id);
    return {
      runs: results.map((x) => ({ aborted: x.aborted, reads: x.read.ios, writes: x.write.ios, errors: x.read.errors + x.write.errors })),
      queue: stats.queues[0],
      writes: stats.ops.write.ops,
      reads: stats.ops.read.ops,
    };
  });
  expect(r.runs).toEqual([
    { aborted: undefined, reads: 0, writes: 64, errors: 0 },
    { aborted: undefined, reads: 3000, writes: 0, errors: 0 },
    { aborted: undefined, reads: 0, writes: 5, errors: 0 },
    { aborted: undefined, reads: 1000, writes: 0, errors: 0 },
  ]);
  // Nothing stale was fetched again: the device ran exactly what the guest submitted.
  expect(r.queue).toMatchObject({ fetched: 4069, completed: 4069, inFlight: 0 });
  expect(r.writes).toBe(69);
  expect(r.reads).toBe(4000);
});
