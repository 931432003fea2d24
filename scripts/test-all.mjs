#!/usr/bin/env node
/**
 * `npm test`: every check the project has, in order, with one verdict at the end.
 *
 *   1. typecheck   tsc -b                 (a failure counts as 1 failed)
 *   2. lint        eslint .               (a failure counts as 1 failed)
 *   2b. wasm       scripts/build-wasm.sh --check: the committed xts.wasm equals a fresh build
 *                  (a gate like lint; without Debian's wasm32 toolchain it is skipped, except on
 *                  CI, where .ci/run installs the toolchain and a missing one fails)
 *   3. unit        vitest run             (each test counts; JSON report read for the numbers)
 *   4. e2e         playwright test        (each test counts; JSON report read for the numbers)
 *
 * Every stage runs even when an earlier one failed, so one run shows everything that is wrong.
 * A stage that exits non-zero without a failed test to show for it (a file that fails to import,
 * a web server that never starts, a crash) still counts as 1 failed: it never passes silently.
 * The last line printed is exactly `N passed, M failed`; the exit code is 1 if M > 0.
 * Node built-ins only, so it works straight after `npm ci`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = path.join(root, 'test-results', 'reports');
const vitestReport = path.join(reportDir, 'vitest.json');
const playwrightReport = path.join(reportDir, 'playwright.json');
// Generous: a hung stage must not eat CI's whole budget, but no healthy stage comes near this.
const STAGE_TIMEOUT_MS = Number(process.env.TEST_ALL_STAGE_TIMEOUT_MS ?? 15 * 60_000);

/** Path of a package's command-line entry, read from its package.json `bin`. */
function bin(pkg, name) {
  const manifestPath = path.join(root, 'node_modules', pkg, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const entry = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[name];
  if (!entry) throw new Error(`${pkg} has no "${name}" command in ${manifestPath}`);
  return path.join(root, 'node_modules', pkg, entry);
}

/** Runs `node <script> ...args` with the console inherited; resolves to the exit code (null on a signal). */
function run(script, args, env = {}) {
  return runProgram(process.execPath, [script, ...args], env);
}

function runProgram(program, args, env = {}) {
  const script = args[0] ?? program;
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
      timeout: STAGE_TIMEOUT_MS,
    });
    child.on('error', (error) => {
      console.error(`test-all: could not start ${script}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      if (signal) console.error(`test-all: ${path.basename(script)} ended by ${signal}`);
      resolve(code);
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A stage that only passes or fails as a whole. */
async function wholeStage(script, args) {
  const code = await run(script, args);
  return code === 0 ? { passed: 1, failed: 0, counted: false } : { passed: 0, failed: 1, counted: false };
}

async function unitStage() {
  rmSync(vitestReport, { force: true });
  const code = await run(bin('vitest', 'vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`]);
  const report = readJson(vitestReport);
  let passed = 0;
  let failed = 0;
  if (report) {
    passed = report.numPassedTests ?? 0;
    failed = report.numFailedTests ?? 0;
    // A test file that fails to load has no test results of its own, yet it is a failure.
    for (const file of report.testResults ?? []) {
      if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
    }
  } else {
    console.error(`test-all: vitest wrote no JSON report at ${path.relative(root, vitestReport)}`);
  }
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed, counted: true };
}

async function e2eStage() {
  rmSync(playwrightReport, { force: true });
  const code = await run(bin('@playwright/test', 'playwright'), ['test'], {
    PLAYWRIGHT_JSON_OUTPUT_FILE: playwrightReport,
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  });
  const report = readJson(playwrightReport);
  let passed = 0;
  let failed = 0;
  if (report?.stats) {
    // Retries are off, so "flaky" only appears if someone turns them on; it did pass in the end.
    passed = (report.stats.expected ?? 0) + (report.stats.flaky ?? 0);
    failed = report.stats.unexpected ?? 0;
    failed += (report.errors ?? []).length;
  } else {
    console.error(`test-all: playwright wrote no JSON report at ${path.relative(root, playwrightReport)}`);
  }
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed, counted: true };
}

/** Debian's wasm32 standard library: what scripts/build-wasm.sh needs (see DEVELOPERS.md). */
const WASM_STD = '/usr/lib/rustlib/wasm32-unknown-unknown';

async function wasmStage() {
  if (!existsSync(WASM_STD) && process.env.CI !== 'true') {
    console.log(`test-all: wasm check skipped: no ${WASM_STD} (apt-get install rustc cargo libstd-rust-dev-wasm32); CI runs it`);
    return { passed: 0, failed: 0, counted: false };
  }
  const code = await runProgram('bash', [path.join(root, 'scripts', 'build-wasm.sh'), '--check']);
  return code === 0 ? { passed: 1, failed: 0, counted: false } : { passed: 0, failed: 1, counted: false };
}

const stages = [
  { name: 'typecheck', run: () => wholeStage(bin('typescript', 'tsc'), ['-b']) },
  { name: 'lint', run: () => wholeStage(bin('eslint', 'eslint'), ['.']) },
  { name: 'wasm', run: wasmStage },
  { name: 'unit', run: unitStage },
  { name: 'e2e', run: e2eStage },
];

mkdirSync(reportDir, { recursive: true });
const results = [];
for (const stage of stages) {
  console.log(`\n=== ${stage.name} ===`);
  const started = Date.now();
  let outcome;
  try {
    outcome = await stage.run();
  } catch (error) {
    console.error(`test-all: stage ${stage.name} could not run: ${error instanceof Error ? error.message : String(error)}`);
    outcome = { passed: 0, failed: 1, counted: false };
  }
  results.push({ name: stage.name, seconds: (Date.now() - started) / 1000, ...outcome });
}

let passed = 0;
let failed = 0;
console.log('\n=== summary ===');
for (const r of results) {
  const verdict = r.failed > 0 ? 'FAIL' : 'ok';
  const counts = r.counted ? `${r.passed} passed, ${r.failed} failed` : verdict === 'ok' ? 'clean' : 'errors (counted as 1 failed)';
  console.log(`${r.name.padEnd(10)} ${verdict.padEnd(5)} ${counts.padEnd(32)} ${r.seconds.toFixed(1)} s`);
  // Typecheck and lint add to the total only when they fail: they are gates, not tests.
  if (r.counted) passed += r.passed;
  failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
