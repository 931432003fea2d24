/**
 * Disks over HTTP in the page: images served by the repo's HTTP test server (another origin, with
 * CORS) open by URL, from the "Open URL" field and from `?url=`; their sectors read exactly as the
 * files' bytes; after a reload the persistent OPFS read cache serves the same ranges with no new
 * range requests at the server; and bad servers end in the typed error message in the status bar.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, type Page } from '@playwright/test';
import { SCREENSHOT_DIR, activeStackTab, hexSector, openLab, panel, test } from './helpers.ts';
import { rangeGets, startTestServer, type TestServer } from './fixtures/http-server.ts';
import { hexOf } from './fixtures-ui/images.ts';

const SECTOR = 512;
const MiB = 1024 * 1024;
const sample = new Uint8Array(fs.readFileSync('public/sample.vhd'));

/** 6 MiB of raw data with recognisable, position-dependent bytes and a hole, as a qemu-img dynamic VHD. */
function makeDynamicVhd(): { raw: Uint8Array; vhd: Uint8Array } {
  const raw = new Uint8Array(6 * MiB);
  for (let i = 0; i < 2 * MiB; i++) raw[i] = (i * 7 + (i >> 9)) & 0xff;
  for (let i = 4 * MiB; i < 5 * MiB; i++) raw[i] = (i * 13 + 5) & 0xff;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-e2e-http-'));
  fs.writeFileSync(path.join(dir, 'data.raw'), raw);
  const r = spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic', path.join(dir, 'data.raw'), path.join(dir, 'dynamic.vhd')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img: ${r.stderr}`);
  const vhd = new Uint8Array(fs.readFileSync(path.join(dir, 'dynamic.vhd')));
  fs.rmSync(dir, { recursive: true, force: true });
  return { raw, vhd };
}

const dynamic = makeDynamicVhd();
let server: TestServer;

test.beforeAll(async () => {
  server = await startTestServer({ '/sample.vhd': sample, '/dynamic.vhd': dynamic.vhd, '/bad.vhd': sample }, { cors: true });
});

test.afterAll(async () => {
  await server?.close();
});

function urlSource(page: Page) {
  return panel(page, 'stack').getByTestId('url-source');
}

async function expectSectors(page: Page, lbas: readonly number[], bytes: Uint8Array): Promise<void> {
  for (const lba of lbas) {
    const sector = await hexSector(page, lba);
    expect(sector.hex, `LBA ${lba}`).toBe(hexOf(bytes.subarray(lba * SECTOR, (lba + 1) * SECTOR)));
  }
}

/** Waits until the cache has written what was read durably (its flush ran) and holds some chunks. */
async function cacheSettled(page: Page): Promise<void> {
  await expect(urlSource(page)).toHaveAttribute('data-cache-mode', 'filling');
  await expect(urlSource(page)).toHaveAttribute('data-cache-dirty', 'false');
  await expect.poll(async () => Number(await urlSource(page).getByTestId('chunks-opfs').getAttribute('data-cached'))).toBeGreaterThan(0);
}

test('a qemu-img dynamic VHD opens by ?url=, reads its bytes, and after a reload the OPFS cache serves them with no range requests', async ({ page }) => {
  const url = server.url('/dynamic.vhd');
  const lbas = [0, 1000, (2 * MiB) / SECTOR - 1, (3 * MiB) / SECTOR, (4 * MiB) / SECTOR + 77, (6 * MiB) / SECTOR - 1];
  await page.goto(`/?url=${encodeURIComponent(url)}`);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'dynamic.vhd');
  await expect(urlSource(page)).toHaveAttribute('data-url', url);
  await expect(urlSource(page)).toHaveAttribute('data-cache-reused', 'false');
  await expectSectors(page, lbas, dynamic.raw);
  await cacheSettled(page);
  const before = rangeGets(server, '/dynamic.vhd');
  expect(before.length).toBeGreaterThan(0);
  // The stack panel shows the source's statistics: requests made and bytes served.
  await expect.poll(async () => Number(await urlSource(page).locator('[data-stat="requests"]').getAttribute('data-value'))).toBeGreaterThan(0);
  await expect.poll(async () => Number(await urlSource(page).locator('[data-stat="bytesServed"]').getAttribute('data-value'))).toBeGreaterThan(0);
  // The occupancy panel shows the object's chunks cached locally, in memory and in OPFS.
  await expect.poll(async () => Number(await page.getByTestId('occupancy-chunks-opfs').getAttribute('data-cached'))).toBeGreaterThan(0);
  await panel(page, 'stack').screenshot({ path: `${SCREENSHOT_DIR}/http-stack.png` });

  await page.reload();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'dynamic.vhd');
  await expect(urlSource(page)).toHaveAttribute('data-cache-reused', 'true');
  await expectSectors(page, lbas, dynamic.raw);
  // Everything the first session read (headers, BAT, data) came from OPFS: not one new range request.
  expect(rangeGets(server, '/dynamic.vhd')).toEqual(before);
});

test('the sample opens from the Open URL field, reads like the file, and is served from OPFS after a reload', async ({ page }) => {
  await openLab(page);
  const url = server.url('/sample.vhd');
  await page.getByTestId('open-url-input').fill(url);
  await page.getByTestId('open-url-button').click();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd');
  const lbas = [0, 63, 2048, 20000, sample.length / SECTOR - 2];
  await expectSectors(page, lbas, sample);
  await cacheSettled(page);
  const before = rangeGets(server, '/sample.vhd');

  await page.goto(`/?url=${encodeURIComponent(url)}`);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd');
  await expect(urlSource(page)).toHaveAttribute('data-cache-reused', 'true');
  await expectSectors(page, lbas, sample);
  expect(rangeGets(server, '/sample.vhd')).toEqual(before);
});

test('a server that ignores Range, and one without CORS, end in messages that say what is wrong', async ({ page, labErrors }) => {
  await openLab(page);
  server.mode = 'ignore-range';
  try {
    await page.getByTestId('open-url-input').fill(server.url('/bad.vhd'));
    await page.getByTestId('open-url-button').click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('NETWORK');
    await expect(alert).toContainText(/ignore[sd]? (the )?Range/);
  } finally {
    server.mode = 'correct';
  }
  const noCors = await startTestServer({ '/plain.vhd': sample }, { cors: false });
  try {
    await page.getByTestId('open-url-input').fill(noCors.url('/plain.vhd'));
    await page.getByTestId('open-url-button').click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('NETWORK');
    await expect(alert).toContainText('Access-Control-Expose-Headers');
  } finally {
    await noCors.close();
  }
  // The browser itself logs the refused cross-origin requests: expected here, and only those.
  const unexpected = labErrors.filter((e) => !/CORS|Failed to load resource|net::ERR_FAILED/.test(e));
  labErrors.splice(0, labErrors.length, ...unexpected);
});
