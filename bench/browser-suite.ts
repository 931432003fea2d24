/**
 * The in-browser benchmark suite: starts Vite, opens bench/browser/index.html in the system
 * Chromium with a persistent profile in a fresh temp dir (OPFS in an incognito context is an
 * in-memory emulation about 100x slower, which would measure nothing real), waits for the page's
 * figures, and pairs each with the baseline measured in the same run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { BenchResult } from './harness.ts';
import type { BrowserFigure } from './browser-protocol.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PORT = Number(process.env['BENCH_PORT'] ?? 5199);
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Which figure is measured against which baseline, and what the target ratio is. */
const PAIRS: readonly { subject: string; baseline: string; description: string; target?: number }[] = [
  { subject: 'controller-ram-4k-randread-qd1', baseline: 'ramdisk-direct-4k-randread', description: 'RAM disk through the controller (guest worker -> rings -> disk worker), QD1, vs RamDisk.read called directly' },
  { subject: 'controller-ram-4k-randread-qd32', baseline: 'ramdisk-direct-4k-randread', description: 'RAM disk through the controller, QD32, vs RamDisk.read called directly (target: 100k IOPS absolute)' },
  { subject: 'controller-filedisk-opfs-4k-randread-qd1', baseline: 'raw-opfs-4k-randread', description: 'FileDisk on OPFS through the controller, QD1, vs a bare sync access handle' },
  { subject: 'controller-filedisk-opfs-4k-randread-qd32', baseline: 'raw-opfs-4k-randread', description: 'FileDisk on OPFS through the controller, QD32, vs a bare sync access handle', target: 0.5 },
  { subject: 'controller-filedisk-opfs-1m-seqread', baseline: 'raw-opfs-1m-seqread', description: 'FileDisk on OPFS through the controller, 1 MiB sequential reads QD4, vs a bare sync access handle', target: 0.8 },
  { subject: 'controller-filedisk-opfs-1m-seqwrite', baseline: 'raw-opfs-1m-seqwrite', description: 'FileDisk on OPFS through the controller, 1 MiB sequential writes QD4, vs a bare sync access handle' },
  { subject: 'xts-wasm-encrypt-4k', baseline: 'xts-noble-encrypt-4k', description: 'XTS-AES-256 encrypt, 16 MiB of 4 KiB sectors: crates/xts wasm (constant-time, simd128) vs a JS XTS on @noble/ciphers AES, same page (issue target: 250 MB/s absolute)' },
  { subject: 'xts-wasm-decrypt-4k', baseline: 'xts-noble-decrypt-4k', description: 'XTS-AES-256 decrypt, 16 MiB of 4 KiB sectors: crates/xts wasm (constant-time, simd128) vs a JS XTS on @noble/ciphers AES, same page (issue target: 250 MB/s absolute)' },
  { subject: 'controller-layered-ram-over-opfs-4k-randread-qd32', baseline: 'controller-filedisk-opfs-4k-randread-qd32', description: 'RAM layer over OPFS through the controller, QD32 (all reads fall through), vs FileDisk alone (peer)' },
];

export async function browserBenchmarks(): Promise<BenchResult[]> {
  const server = await createServer({ root, configFile: path.join(root, 'vite.config.ts'), server: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'error' });
  await server.listen();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') process.stderr.write(`bench page: ${m.text()} ${m.location().url}\n`);
    });
    // BENCH_BROWSER_ONLY=xts measures only the XTS figures (a quick look without the OPFS runs).
    const xtsOnly = process.env['BENCH_BROWSER_ONLY'] === 'xts';
    await page.goto(`http://127.0.0.1:${PORT}/bench/browser/index.html${xtsOnly ? '?xts-only' : ''}`);
    const timeout = Number(process.env['BENCH_BROWSER_TIMEOUT_MS'] ?? 300_000);
    const handle = await page
      .waitForFunction(() => (globalThis as { benchResults?: unknown }).benchResults, undefined, { timeout })
      .catch(async (e: unknown) => {
        const shown = await page.locator('#out').textContent().catch(() => '');
        throw new Error(`browser benchmarks did not finish (${String(e)}); the page got as far as:\n${shown}`);
      });
    const results = (await handle.jsonValue()) as { figures: BrowserFigure[]; error?: string };
    if (results.error) throw new Error(`browser benchmarks failed: ${results.error}`);
    return pair(results.figures, xtsOnly);
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function pair(figures: readonly BrowserFigure[], xtsOnly = false): BenchResult[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  const round = (n: number) => Math.round(n * 100) / 100;
  return PAIRS.filter((p) => !xtsOnly || p.subject.startsWith('xts-')).map(({ subject, baseline, description, target }) => {
    const s = byName.get(subject);
    const b = byName.get(baseline);
    if (!s || !b) throw new Error(`browser benchmarks: missing figure ${s ? baseline : subject}`);
    return {
      name: `browser-${subject}`,
      description,
      unit: s.unit,
      value: round(s.value),
      ops: s.ops,
      seconds: round(s.seconds),
      baseline: { name: b.name, unit: b.unit, value: round(b.value) },
      ratio: Math.round((s.value / b.value) * 1000) / 1000,
      ...(target === undefined ? {} : { targetRatio: target }),
    };
  });
}
