/**
 * In-browser job throughput against the raw platform, in one run (issue 7's performance figure):
 * commit (a persistent OPFS diff layer into the OPFS image below it) and export (an OPFS image
 * into a new raw OPFS image) of BENCH_JOBS_MIB MiB of data (default 64), each against a bare
 * OPFS-to-OPFS copy of the same bytes with two sync access handles (bench/browser/raw-copy.worker.ts),
 * made just before the job. Target ratio 0.7. Part of `npm run bench` (bench/run.ts); alone, `npx tsx bench/browser-jobs.ts`
 * prints the same JSON.
 *
 * Like browser-suite.ts it uses a persistent Chromium
 * profile in a fresh temp dir: OPFS in an incognito context is an in-memory emulation.
 * The page is the e2e persistence harness (e2e/fixtures/persist.html), which starts disk workers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { BenchResult } from './harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PORT = Number(process.env['BENCH_PORT'] ?? 5198);
const MIB = Number(process.env['BENCH_JOBS_MIB'] ?? 64);

interface Figures {
  readonly rawMs: number;
  readonly rawBeforeCommitMs: number;
  readonly exportMs: number;
  readonly commitMs: number;
  readonly exportWritten: number;
  readonly bytes: number;
}

export async function browserJobBenchmarks(): Promise<BenchResult[]> {
  const server = await createServer({ root, configFile: path.join(root, 'vite.config.ts'), server: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'error' });
  await server.listen();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-bench-jobs-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/e2e/fixtures/persist.html`);
    await page.getByRole('status').filter({ hasText: 'ready' }).waitFor();
    // The measuring code is the harness page's `benchJobs` (e2e/fixtures/persist-harness.ts).
    const f = await page.evaluate((mib) => (globalThis as unknown as { persist: { benchJobs(mib: number): Promise<Figures> } }).persist.benchJobs(mib), MIB);
    const mbps = (ms: number) => Math.round((f.bytes / 1e6 / (ms / 1000)) * 10) / 10;
    // Each job is compared with a bare copy made just before it, so both meet the same disk
    // history (see JobFigures in the harness). BENCH_JOBS_BASELINE=first compares the commit with
    // the first copy instead, as this benchmark did before.
    const commitRawMs = process.env['BENCH_JOBS_BASELINE'] === 'first' ? f.rawMs : f.rawBeforeCommitMs;
    const baseline = { name: 'raw-opfs-copy', unit: 'MB/s', value: mbps(f.rawMs) };
    const commitBaseline = { name: 'raw-opfs-copy-before-commit', unit: 'MB/s', value: mbps(commitRawMs) };
    const results: BenchResult[] = [
      { name: 'browser-job-export-raw', description: `export of a ${MIB} MiB OPFS image to a new raw OPFS image (ExportJob in the disk worker) vs a bare sync-handle copy just before it`, unit: 'MB/s', value: mbps(f.exportMs), ops: 1, seconds: f.exportMs / 1000, baseline, ratio: Math.round((f.rawMs / f.exportMs) * 1000) / 1000, targetRatio: 0.7 },
      { name: 'browser-job-commit', description: `commit of a ${MIB} MiB persistent OPFS diff into the OPFS image below (CommitJob, live, then emptying the diff) vs a bare sync-handle copy just before it`, unit: 'MB/s', value: mbps(f.commitMs), ops: 1, seconds: f.commitMs / 1000, baseline: commitBaseline, ratio: Math.round((commitRawMs / f.commitMs) * 1000) / 1000, targetRatio: 0.7 },
    ];
    return results;
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await browserJobBenchmarks(), null, 2)}\n`);
}
