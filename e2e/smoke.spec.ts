/**
 * Smoke test: the page loads cross-origin isolated, and its platform check proves a dedicated
 * worker can use an OPFS sync access handle, which the disk worker depends on.
 */
import { expect, test } from '@playwright/test';
import { openLab, platformCheck, screenshot, settledCheck } from './helpers.ts';

test('page is cross-origin isolated and OPFS sync access works in a worker', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await openLab(page);

  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');

  const isolation = await settledCheck(page, 'cross-origin-isolated');
  expect(isolation.status, isolation.detail).toBe('pass');

  const opfs = await settledCheck(page, 'opfs-sync-handle');
  expect(opfs.status, opfs.detail).toBe('pass');
  await expect(platformCheck(page, 'opfs-sync-handle')).toContainText('verified 4608 bytes');

  await screenshot(page, 'home');
  expect(pageErrors).toEqual([]);
});

test('the probe leaves no file behind in the origin private file system', async ({ page }) => {
  await openLab(page);
  await expect(platformCheck(page, 'opfs-sync-handle')).toHaveAttribute('data-status', 'pass');
  const leftovers = await page.evaluate(async () => {
    const names: string[] = [];
    const root = await navigator.storage.getDirectory();
    // entries() is in Chromium but not yet in TypeScript's DOM lib.
    const iterable = root as unknown as { keys(): AsyncIterable<string> };
    for await (const name of iterable.keys()) names.push(name);
    return names;
  });
  expect(leftovers.filter((name) => name.startsWith('disklab-opfs-probe-'))).toEqual([]);
});
