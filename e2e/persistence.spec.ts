/**
 * Crash consistency of the persistent OPFS diff layer in Chromium: a write+flush workload runs
 * against a stack whose top is a persistent layer, the disk worker is killed (`terminate()`, as
 * a closed tab would) at a random moment, a new worker reopens the layer, and every sector the
 * guest wrote is checked against the guest's own record:
 * - lost: a sector reads a value that is neither what the last completed flush covered nor a
 *   value written after it (so a flushed write went missing);
 * - torn: a sector holds a mix of two writes' bytes (every write fills whole sectors with one
 *   byte, so a sector that is not uniform is torn).
 * Both must be zero over every iteration. Seeds are fixed, so a failure replays.
 * The harness page (e2e/fixtures/persist.html) starts disk workers on demand.
 */
import { expect, test } from '@playwright/test';
import type { Persist } from './fixtures/persist-harness.ts';
import { openHarness } from './fixtures/open-harness.ts';

const LAYER = 'e2e-crash';
const SECTORS = 1024;
const ITERATIONS = 30;

interface IterationResult {
  readonly checked: number;
  readonly lost: number;
  readonly torn: number;
  readonly writes: number;
  readonly flushes: number;
  readonly killedAfterMs: number;
  readonly firstProblem?: string;
}

test('killing the disk worker mid-workload never loses a flushed write nor tears a sector of a persistent layer', async ({ page }) => {
  test.setTimeout(120_000);
  await openHarness(page);
  await page.evaluate(async (layer) => {
    const { persist } = globalThis as unknown as { persist: Persist };
    const h = persist.start();
    if ((await h.disk.listLayers()).some((l) => l.name === layer)) await h.disk.deleteLayer(layer);
    h.kill();
  }, LAYER);

  const totals = { checked: 0, lost: 0, torn: 0, writes: 0, flushes: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const r: IterationResult = await page.evaluate(
      async ({ layer, sectors, seed }) => {
        const { persist } = globalThis as unknown as { persist: Persist };
        // The guest's record, kept on the page across iterations: per sector the value the last
        // completed flush covered (0: never written) and the values written since.
        const g = globalThis as unknown as { record?: { durable: number[]; since: Array<Set<number>> } };
        g.record ??= { durable: new Array<number>(sectors).fill(0), since: Array.from({ length: sectors }, () => new Set<number>()) };
        const rec = g.record;
        let state = seed >>> 0 || 1;
        const rand = (n: number) => {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          return (state >>> 0) % n;
        };
        const spec = { kind: 'layered', layers: [{ kind: 'persistent-layer', name: layer }, { kind: 'disk-layer', disk: { kind: 'ram', sectors } }] } as const;
        const h = persist.start();
        // The killed worker's handles are released by the browser shortly after terminate().
        let info;
        for (let attempt = 0; ; attempt++) {
          try {
            info = await h.disk.openStack(spec, 'crash');
            break;
          } catch (e) {
            if ((e as { code?: string }).code !== 'LOCKED' || attempt > 50) throw e;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        // Verify what the reopened layer holds against the record.
        const dump = await h.disk.readSectors(info.id, 0, sectors);
        let lost = 0;
        let torn = 0;
        let firstProblem: string | undefined;
        for (let s = 0; s < sectors; s++) {
          const bytes = dump.data.subarray(s * 512, (s + 1) * 512);
          const v = bytes[0]!;
          if (!bytes.every((b) => b === v)) {
            torn++;
            firstProblem ??= `sector ${s} is torn`;
          } else if (v !== rec.durable[s] && !rec.since[s]!.has(v)) {
            lost++;
            firstProblem ??= `sector ${s} reads ${v}, flushed ${rec.durable[s]}, since [${[...rec.since[s]!]}]`;
          }
          rec.durable[s] = v;
          rec.since[s]!.clear();
        }
        // What was read is now the layer's state; a flush makes it durable before new writes.
        const flushed = await h.disk.runShell(info.id, 'flush');
        if (!flushed.ok) throw new Error(`flush failed: ${flushed.lines.map((l) => l.text).join(' ')}`);

        // The workload, killed at a random moment.
        const killedAfterMs = 10 + rand(300);
        let killed = false;
        let kill!: () => void;
        const killedP = new Promise<'killed'>((resolve) => (kill = () => resolve('killed')));
        setTimeout(() => {
          killed = true;
          h.kill();
          kill();
        }, killedAfterMs);
        let writes = 0;
        let flushes = 0;
        const latest = new Map<number, number>();
        while (!killed) {
          if (rand(4) === 0) {
            const out = await Promise.race([h.disk.runShell(info.id, 'flush'), killedP]);
            if (out === 'killed') break;
            if (!out.ok) throw new Error('flush failed');
            flushes++;
            // Every write before this flush completed before it was issued: all are durable now.
            for (const [s, v] of latest) {
              rec.durable[s] = v;
              rec.since[s]!.clear();
            }
            latest.clear();
          } else {
            const lba = rand(sectors - 8);
            const count = 1 + rand(8);
            const v = 1 + rand(255);
            for (let s = lba; s < lba + count; s++) rec.since[s]!.add(v);
            const out = await Promise.race([h.disk.runShell(info.id, `write -P ${v} ${lba * 512} ${count * 512}`), killedP]);
            if (out === 'killed') break;
            if (!out.ok) throw new Error(`write failed: ${out.lines.map((l) => l.text).join(' ')}`);
            writes++;
            for (let s = lba; s < lba + count; s++) latest.set(s, v);
          }
        }
        return { checked: sectors, lost, torn, writes, flushes, killedAfterMs, ...(firstProblem ? { firstProblem } : {}) };
      },
      { layer: LAYER, sectors: SECTORS, seed: 0x9e3779b9 ^ (i * 7919) },
    );
    expect(r.firstProblem, `iteration ${i}`).toBeUndefined();
    totals.checked += r.checked;
    totals.lost += r.lost;
    totals.torn += r.torn;
    totals.writes += r.writes;
    totals.flushes += r.flushes;
  }
  console.log(`crash test: ${ITERATIONS} kills, ${totals.writes} writes, ${totals.flushes} flushes, ${totals.checked} sector checks, lost ${totals.lost}, torn ${totals.torn}`);
  expect(totals.lost).toBe(0);
  expect(totals.torn).toBe(0);
  // The workload must have done real work between kills for the test to mean anything.
  expect(totals.writes).toBeGreaterThan(ITERATIONS * 5);
  expect(totals.flushes).toBeGreaterThan(ITERATIONS);

  await page.evaluate(async (layer) => {
    const { persist } = globalThis as unknown as { persist: Persist };
    const h = persist.start();
    for (let attempt = 0; ; attempt++) {
      try {
        await h.disk.deleteLayer(layer);
        break;
      } catch (e) {
        if (attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    h.kill();
  }, LAYER);
});
