/**
 * The persistence slice through the page: a persistent OPFS diff replaces the sample's RAM diff
 * from the stack panel, a flushed write survives a reload (the page restores the last stack),
 * the library lists the layer with its size, and a stream job runs from the jobs panel to
 * completion with its progress shown. Overlays are saved with the stack: a delay (set to
 * particular delays) and a RAM diff come back after a reload, and only the restored stack opens
 * (not the sample as well).
 */
import { expect } from '@playwright/test';
import { activeStackTab, openLabWithSample, panel, terminalRun, test } from './helpers.ts';

test('a persistent diff keeps flushed writes across a reload, and the library and jobs panels work on it', async ({ page }) => {
  test.setTimeout(60_000);
  page.on('dialog', (d) => void d.accept());
  await openLabWithSample(page);
  await panel(page, 'stack').getByRole('button', { name: 'Persistent diff (OPFS)' }).click();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd (persistent)');
  await expect(panel(page, 'stack').locator('[data-testid="stack-node"][data-label="persistent layer sample.vhd.diff"]')).toHaveCount(1);
  // FUA: the write is durable when it completes (a plain write would need a flush, which prints nothing).
  await terminalRun(page, 'write -f -P 0x5a 0 4096');

  await page.reload();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd (persistent)', { timeout: 20_000 });
  // Only the restored stack opens: the sample is not opened beside it.
  await expect(page.getByTestId('stack-tab')).toHaveCount(1);
  const log = await terminalRun(page, 'read -P 0x5a 0 4096');
  await expect(log).toContainText('read 4096/4096 bytes');
  await expect(log).not.toContainText('Pattern verification failed');

  const library = page.getByTestId('panel-library');
  await library.getByRole('button', { name: 'Refresh' }).click();
  const entry = library.locator('[data-testid="layer-entry"][data-name="sample.vhd.diff"]');
  await expect(entry).toHaveCount(1);
  expect(Number(await entry.getAttribute('data-size'))).toBeGreaterThan(4096);
  await expect(library.getByTestId('storage-usage')).toContainText('quota');

  const jobs = page.getByTestId('panel-jobs');
  await jobs.getByLabel('Job kind').selectOption('stream');
  await jobs.getByRole('button', { name: 'Start' }).click();
  await expect(jobs.locator('[data-testid="job"][data-kind="stream"]')).toHaveAttribute('data-state', 'completed', { timeout: 20_000 });
});

test('commit from the jobs panel moves a persistent diff into its OPFS image and empties the diff', async ({ page }) => {
  test.setTimeout(60_000);
  await openLabWithSample(page);
  const images = panel(page, 'images');
  await images.getByLabel('New disk kind').selectOption('raw');
  await images.getByLabel('Image name').fill('commit-ui.img');
  await images.getByLabel('Disk size').fill('1M');
  await images.getByRole('button', { name: 'Create' }).click();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'commit-ui.img');
  await panel(page, 'stack').getByRole('button', { name: 'Persistent diff (OPFS)' }).click();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'commit-ui.img (persistent)');
  await terminalRun(page, 'write -f -P 0x42 0 65536');
  const top = panel(page, 'stack').getByTestId('layer-row').first();
  await expect(top).toHaveAttribute('data-bytes-present', '65536');

  const jobs = page.getByTestId('panel-jobs');
  await jobs.getByLabel('Job kind').selectOption('commit');
  await jobs.getByRole('button', { name: 'Start' }).click();
  const job = jobs.locator('[data-testid="job"][data-kind="commit"]');
  await expect(job).toHaveAttribute('data-state', 'completed', { timeout: 20_000 });
  await expect(job.getByRole('progressbar')).toBeVisible();
  await expect(top).toHaveAttribute('data-bytes-present', '0');
  // What the guest sees is unchanged, and the image itself now holds the data.
  await expect(await terminalRun(page, 'read -P 0x42 0 65536')).toContainText('read 65536/65536 bytes');
  await page.getByRole('button', { name: 'Close commit-ui.img (persistent)' }).click();
  await images.locator('[data-testid="opfs-image"][data-name="commit-ui.img"]').getByRole('button', { name: 'Open' }).click();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'commit-ui.img');
  // A read no earlier line made (the terminal log may be shared between stacks); a mismatch would fail it.
  const log = await terminalRun(page, 'read -P 0x42 4096 8192');
  await expect(log).toContainText('read 8192/8192 bytes at offset 4096');
  await expect(log).not.toContainText('Pattern verification failed');
});

test('a delay overlay survives a reload, and only the restored stack opens (not the sample too)', async ({ page }) => {
  test.setTimeout(60_000);
  await openLabWithSample(page);
  const stack = panel(page, 'stack');
  await stack.getByRole('button', { name: 'Add RAM diff' }).click();
  await stack.getByLabel('read µs').fill('1234');
  await stack.getByLabel('write µs').fill('567');
  await stack.getByRole('button', { name: 'Add delay' }).click();
  const delay = stack.locator('[data-testid="stack-node"][data-role="decorator"][data-label="delay (read 1234 us, write 567 us)"]');
  await expect(delay).toHaveCount(1);
  await expect(stack.getByTestId('layer-row')).toHaveCount(3);
  // Saving is asynchronous (IndexedDB): give it a moment before reloading.
  await page.waitForTimeout(500);

  await page.reload();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd');
  await expect(delay).toHaveCount(1, { timeout: 20_000 });
  // The RAM diff under the delay came back (empty: its data lived in memory).
  await expect(stack.getByTestId('layer-row')).toHaveCount(3);
  // Writes go through the restored delay.
  const log = await terminalRun(page, 'write -P 0x22 0 512');
  await expect(log).toContainText('wrote 512/512 bytes at offset 0');
  // One stack open: the restored one, not the sample beside it.
  await page.waitForTimeout(1000);
  await expect(page.getByTestId('stack-tab')).toHaveCount(1);
});
