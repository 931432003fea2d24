/**
 * The lab's main screen end to end (Chromium): the sample opens on first visit; dropped raw and
 * fixed VHD files open read-only under a RAM diff; workloads from the controller panel change the
 * occupancy map (read as data) without touching the base, verify cleanly and fill the latency
 * view; the terminal runs qemu-io-like commands. Each test saves a screenshot of its panel to
 * test-results/screenshots/<panel>.png.
 */
import { readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { SECTOR, compressedQcow2, dynamicVhd, fixedVhd, hexOf, rawImage, vhdx } from './fixtures-ui/images.ts';
import {
  activeStackTab,
  dropFiles,
  hexSector,
  occupancyData,
  openLabWithSample,
  panel,
  panelScreenshot,
  runWorkload,
  terminalRun,
  test,
} from './helpers.ts';

const SAMPLE = readFileSync('public/sample.vhd');

test('first visit opens the sample and shows its stack', async ({ page}) => {
  await openLabWithSample(page);
  const stack = panel(page, 'stack');
  const labels = await stack.getByTestId('stack-node').evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute('data-role')}:${n.getAttribute('data-label')}`));
  expect(labels.join('\n')).toContain('sample.vhd');
  expect(labels.some((l) => l.startsWith('layer:'))).toBe(true);
  // Two layers: the empty RAM diff on top, the sample below; nothing written yet.
  const rows = stack.getByTestId('layer-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toHaveAttribute('data-bytes-present', '0');
  // The stack is the sample's size: a fixed VHD's data is everything but its 512-byte footer.
  await expect(stack).toContainText(`${((SAMPLE.length - 512) / 512).toLocaleString('en-US')} sectors of 512 B`);
  await panelScreenshot(page, 'stack');
});

test('dropping a dynamic VHD, a VHDX and a compressed qcow2 made by qemu-img opens them with the same bytes', async ({ page }) => {
  await openLabWithSample(page);
  const raw = rawImage(4096, 5);
  await dropFiles(page, [{ name: 'dynamic.vhd', data: dynamicVhd(raw) }]);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'dynamic.vhd');
  await expect(panel(page, 'stack')).toContainText('4,096 sectors of 512 B');
  let sector = await hexSector(page, 4000);
  expect(sector.hex).toBe(hexOf(raw.subarray(4000 * SECTOR, 4001 * SECTOR)));
  expect(sector.source).toMatch(/^layer 1/);
  await dropFiles(page, [{ name: 'disk.vhdx', data: vhdx(raw) }]);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'disk.vhdx');
  sector = await hexSector(page, 77);
  expect(sector.hex).toBe(hexOf(raw.subarray(77 * SECTOR, 78 * SECTOR)));
  await dropFiles(page, [{ name: 'disk.qcow2', data: compressedQcow2(raw) }]);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'disk.qcow2');
  sector = await hexSector(page, 2049);
  expect(sector.hex).toBe(hexOf(raw.subarray(2049 * SECTOR, 2050 * SECTOR)));
});

test('dropping a local raw and a fixed VHD file opens them read-only under a RAM diff', async ({ page}) => {
  await openLabWithSample(page);
  const raw = rawImage(2048, 3);
  const vhd = fixedVhd(rawImage(1024, 9));
  expect(vhd.length).toBe(1024 * SECTOR + 512);

  await dropFiles(page, [{ name: 'dropped.img', data: raw }]);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'dropped.img');
  await expect(panel(page, 'stack').getByTestId('layer-row')).toHaveCount(2);
  let sector = await hexSector(page, 5);
  expect(sector.hex).toBe(hexOf(raw.subarray(5 * SECTOR, 6 * SECTOR)));
  expect(sector.source).toMatch(/^layer 1/);

  await dropFiles(page, [{ name: 'dropped.vhd', data: vhd }]);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'dropped.vhd');
  await expect(panel(page, 'stack')).toContainText('1,024 sectors of 512 B');
  sector = await hexSector(page, 1023);
  expect(sector.hex).toBe(hexOf(rawImage(1024, 9).subarray(1023 * SECTOR)));
  expect(sector.source).toMatch(/^layer 1/);
  await expect(page.getByRole('list', { name: 'Open stacks' }).getByTestId('stack-tab')).toHaveCount(3);
  await panelScreenshot(page, 'hex');
  await panelScreenshot(page, 'open');
});

test('a randwrite workload on the RAM diff changes the occupancy map and leaves the base untouched', async ({ page}) => {
  await openLabWithSample(page);
  const before = await occupancyData(page);
  expect(before.topCounts['0'] ?? 0).toBe(0);
  expect(before.sectorsHeld[0]?.sectors).toBe(0);

  const result = await runWorkload(page, '4k random read QD32', { rw: 'randwrite', iodepth: '8', 'runtime (s)': '', ios: '300' });
  await expect(result).toHaveAttribute('data-errors', '0');
  await expect(result).toContainText('write: IOPS=');

  // The map is re-read after the run: the RAM diff (layer 0) now tops some cells and holds data.
  await expect.poll(async () => (await occupancyData(page)).topCounts['0'] ?? 0).toBeGreaterThan(0);
  const after = await occupancyData(page);
  expect(after.sectorsHeld[0]!.sectors).toBeGreaterThan(0);
  expect(after.sectorsHeld[0]!.sectors % 8).toBe(0); // whole 4 KiB blocks
  await expect(panel(page, 'stack').getByTestId('layer-row').first()).not.toHaveAttribute('data-bytes-present', '0');

  // A written sector now comes from the RAM diff and differs from the sample. The first cell the
  // RAM diff tops holds at least one of the 4 KiB blocks (8 sectors) that start in it.
  const cellStart = after.firstTopLba['0']!;
  const sectorsPerCell = after.count / after.buckets;
  let lba = -1;
  let written = { hex: '', source: '' };
  for (let at = cellStart; at < cellStart + sectorsPerCell && lba < 0; at += 8) {
    written = await hexSector(page, at);
    if (written.source.startsWith('layer 0')) lba = at;
  }
  expect(lba, `a sector from the RAM diff in LBA ${cellStart}+${sectorsPerCell}`).toBeGreaterThanOrEqual(0);
  const original = hexOf(SAMPLE.subarray(lba * SECTOR, (lba + 1) * SECTOR));
  expect(written.hex).not.toBe(original);
  await panelScreenshot(page, 'occupancy');

  // ...while a fresh stack over the same sample still reads the original bytes there.
  await panel(page, 'open').getByRole('button', { name: 'Open sample' }).click();
  await expect(page.getByRole('list', { name: 'Open stacks' }).getByTestId('stack-tab')).toHaveCount(2);
  await expect(panel(page, 'stack').getByTestId('layer-row').first()).toHaveAttribute('data-bytes-present', '0');
  const fresh = await hexSector(page, lba);
  expect(fresh.source).toMatch(/^layer 1/);
  expect(fresh.hex).toBe(original);
});

test('the occupancy map shows a cell on hover and zooms into a region and back', async ({ page}) => {
  await openLabWithSample(page);
  await terminalRun(page, 'write -P 0x5a 0 64k');
  await expect.poll(async () => (await occupancyData(page)).topCounts['0'] ?? 0).toBeGreaterThan(0);
  const whole = await occupancyData(page);
  const canvas = panel(page, 'occupancy').getByRole('img');
  await canvas.hover({ position: { x: 3, y: 3 } });
  await expect(page.getByTestId('occupancy-tip')).toContainText(/LBA 0–\d+/);
  await canvas.click({ position: { x: 3, y: 3 } });
  await expect.poll(async () => (await occupancyData(page)).count).toBeLessThan(whole.count);
  const zoomed = await occupancyData(page);
  expect(zoomed.lba).toBe(0);
  // Zoomed in, the 64 KiB written at LBA 0 (128 sectors) covers whole cells of the RAM diff.
  expect(zoomed.sectorsHeld[0]!.sectors).toBe(Math.min(128, zoomed.count));
  await canvas.press('Escape');
  await expect.poll(async () => (await occupancyData(page)).count).toBe(whole.count);
});

test('a verify workload reports zero mismatches', async ({ page}) => {
  await openLabWithSample(page);
  const result = await runWorkload(page, 'verify', { size: '1M' });
  await expect(result).toHaveAttribute('data-mismatches', '0');
  await expect(result).toHaveAttribute('data-errors', '0');
  expect(Number(await result.getAttribute('data-blocks-checked'))).toBeGreaterThan(0);
  await expect(result).toContainText(/verify: \d+ blocks checked, 0 mismatches/);
  await expect(panel(page, 'controller').getByRole('meter')).toHaveCount(2);
  await panelScreenshot(page, 'controller');
});

test('the latency view shows non-empty percentiles', async ({ page}) => {
  await openLabWithSample(page);
  await runWorkload(page, '4k random read QD32', { 'runtime (s)': '2' });
  const latency = panel(page, 'latency');
  const table = latency.getByTestId('percentile-table');
  await expect(table).toBeVisible();
  await expect(table).toHaveAttribute('data-unit', /usec|msec/);
  const values = await table.locator('td[data-op="read"]').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-ns'))));
  expect(values).toHaveLength(17);
  expect(values.every((ns) => ns > 0)).toBe(true);
  // Percentiles are monotonic.
  expect(values).toEqual([...values].sort((a, b) => a - b));
  await expect(latency.getByTestId('latency-histogram').locator('canvas')).toHaveCount(1);
  await expect(latency.getByTestId('latency-series').locator('canvas')).toHaveCount(1);
  await panelScreenshot(page, 'latency');
});

test('terminal: write -P 0xab then read -v shows ab, and bad input is an error line', async ({ page}) => {
  await openLabWithSample(page);
  let log = await terminalRun(page, 'write -P 0xab 0 4096');
  await expect(log).toContainText('wrote 4096/4096 bytes at offset 0');
  log = await terminalRun(page, 'read -v 0 16');
  await expect(log).toContainText('00000000:  ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab');
  await terminalRun(page, 'frobnicate 1 2');
  await expect(log.locator('div[data-stream="err"]').last()).toContainText('frobnicate');
  // History: Up brings back the last command.
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await expect(log.locator('div').filter({ hasText: 'disklab> read -v 0 16' })).toHaveCount(2);
  await panelScreenshot(page, 'terminal');
});

test('Stop ends a running workload early', async ({ page }) => {
  await openLabWithSample(page);
  const controller = panel(page, 'controller');
  await controller.getByLabel('runtime (s)', { exact: true }).fill('60');
  await controller.getByRole('button', { name: 'Start' }).click();
  await expect(controller.getByTestId('workload-phase')).toHaveAttribute('data-phase', 'running');
  await expect(controller.getByTestId('queue-bars')).toBeVisible();
  // Per-layer attribution comes live from the shared buffer: the sample (below the empty diff) serves the reads.
  const layers = panel(page, 'stack').getByRole('table', { name: 'Layers' });
  await expect(layers).toHaveAttribute('data-served-source', 'shared');
  await expect(layers.getByTestId('layer-served').nth(1)).not.toHaveText('0');
  await controller.getByRole('button', { name: 'Stop' }).click();
  await expect(controller.getByTestId('workload-phase')).toHaveAttribute('data-phase', 'done', { timeout: 10_000 });
  await expect(controller.getByTestId('workload-result')).not.toHaveAttribute('data-aborted', '');
});

test('overlays can be added to and removed from the live stack', async ({ page }) => {
  await openLabWithSample(page);
  const stack = panel(page, 'stack');
  // A RAM diff over a layered disk joins its layers: one flat stack, three layers.
  await stack.getByRole('button', { name: 'Add RAM diff' }).click();
  await expect(stack.getByTestId('layer-row')).toHaveCount(3);
  await stack.getByRole('button', { name: 'Add delay' }).click();
  const decorator = stack.locator('[data-testid="stack-node"][data-role="decorator"]');
  await expect(decorator).toHaveCount(1);
  // Writes go through the delay into the new top layer.
  const log = await terminalRun(page, 'write -P 0x11 0 512');
  await expect(log).toContainText('wrote 512/512 bytes at offset 0');
  await expect(stack.getByTestId('layer-row').first()).toHaveAttribute('data-bytes-present', '512');
  await decorator.getByRole('button', { name: /^Remove/ }).first().click();
  await expect(decorator).toHaveCount(0);
  // Removing the delay keeps the RAM diff and its data.
  await expect(stack.getByTestId('layer-row')).toHaveCount(3);
  expect((await hexSector(page, 0)).hex).toBe('11'.repeat(512));
});

test('importing a local file into OPFS shows progress, lists the image and opens it writable', async ({ page }) => {
  await openLabWithSample(page);
  const images = panel(page, 'images');
  const raw = rawImage(8192, 5); // 4 MiB
  await images.getByLabel('Import into OPFS').setInputFiles({ name: 'imported.img', mimeType: 'application/octet-stream', buffer: raw });
  const row = images.locator('[data-testid="opfs-image"][data-name="imported.img"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText('4.0 MiB');
  await row.getByRole('button', { name: 'Open' }).click();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'imported.img');
  const log = await terminalRun(page, 'write -P 0xcd 512 512');
  await expect(log).toContainText('wrote 512/512 bytes at offset 512');
  const sector = await hexSector(page, 1);
  expect(sector.hex).toBe('cd'.repeat(512));
  expect(sector.source).toBe('the disk (not layered)');
  await panelScreenshot(page, 'images');
});

test('without cross-origin isolation the page says so and runs workloads inline', async ({ page, labErrors }) => {
  // Serve the same page without COOP/COEP: no SharedArrayBuffer for the controller.
  await page.context().route('**/*', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  await openLabWithSample(page);
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
  const controller = panel(page, 'controller');
  await expect(controller.getByTestId('isolation-notice')).toBeVisible();
  const result = await runWorkload(page, 'verify', { size: '256k', iodepth: '4', queues: '1' });
  await expect(controller.getByTestId('workload-phase')).toContainText('inline fallback');
  await expect(result).toHaveAttribute('data-mismatches', '0');
  await expect(panel(page, 'latency').getByTestId('percentile-table')).toBeVisible();
  // Routing the page through Playwright breaks only Vite's hot-reload socket; everything else must be clean.
  const rest = labErrors.filter((e) => !/websocket/i.test(e));
  labErrors.splice(0, labErrors.length, ...rest);
});
