/**
 * Playwright runs the e2e/ specs in the system Chromium (Debian's /usr/bin/chromium, or
 * CHROMIUM_PATH); it never downloads a browser. The Vite dev server is started on a fixed port,
 * and a developer's already running `npm start` is reused outside CI.
 *
 * Reports: the list reporter on the console and JSON at PLAYWRIGHT_JSON_REPORT, which
 * scripts/test-all.mjs reads for its counts. Playwright clears its outputDir at the start of a
 * run, so the reports and screenshots live beside it, not in it.
 */
import { defineConfig } from '@playwright/test';

// Never fetch a browser build: this project uses the system Chromium.
process.env['PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD'] ??= '1';

// E2E_PORT lets several checkouts (or engineers) run the e2e suite side by side.
const PORT = Number(process.env['E2E_PORT'] ?? 5173);
const BASE_URL = `http://127.0.0.1:${PORT}`;
const PLAYWRIGHT_JSON_REPORT = process.env['PLAYWRIGHT_JSON_OUTPUT_FILE'] ?? 'test-results/reports/playwright.json';
const CI = Boolean(process.env['CI']);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/playwright-output',
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['json', { outputFile: PLAYWRIGHT_JSON_REPORT }]],
  use: {
    baseURL: BASE_URL,
    viewport: { width: 1280, height: 720 },
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [{ name: 'chromium' }],
  webServer: {
    command: `node node_modules/vite/bin/vite.js --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: BASE_URL,
    reuseExistingServer: !CI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
