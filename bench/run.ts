/**
 * `npm run bench`: runs every Node benchmark, prints one JSON array (one object per benchmark:
 * name, figures, the baseline measured in the same run, ratio) and writes it to bench/results.json.
 * Progress goes to stderr so stdout stays machine-readable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './harness.ts';
import { fileDiskBenchmarks, layeredDiskBenchmarks, ramDiskBenchmarks } from './node-disks.ts';
import { browserBenchmarks } from './browser-suite.ts';
import { formatBenchmarks } from './node-formats.ts';

const suites: [string, () => Promise<BenchResult[]>][] = [
  ['ram disk', ramDiskBenchmarks],
  ['file disk', fileDiskBenchmarks],
  ['layered disk', layeredDiskBenchmarks],
  ['image formats vs qemu-img', formatBenchmarks],
  ['block jobs', async () => (await import('./node-jobs.ts')).jobBenchmarks()],
  ['http range source vs plain fetch (loopback)', async () => (await import('./node-http.ts')).httpBenchmarks()],
  ['XTS-AES-256: wasm vs @noble/ciphers vs OpenSSL', async () => (await import('./node-xts.ts')).xtsBenchmarks()],
  ['in-browser (Chromium, persistent profile)', browserBenchmarks],
  ['in-browser block jobs vs raw OPFS copy', async () => (await import('./browser-jobs.ts')).browserJobBenchmarks()],
];

const results: BenchResult[] = [];
for (const [name, suite] of suites) {
  process.stderr.write(`bench: ${name}...\n`);
  results.push(...(await suite()));
}
const json = JSON.stringify(results, null, 2);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
fs.writeFileSync(out, json + '\n');
process.stdout.write(json + '\n');
process.stderr.write(`bench: wrote ${out}\n`);
