/**
 * Typed helpers for the e2e specs: locators for the page's panels by role and test id, and page
 * screenshots into test-results/screenshots/ (kept after the run; Playwright's own outputDir is
 * cleared at each start).
 */
import { expect, type Locator, type Page } from '@playwright/test';

export type CheckId = 'cross-origin-isolated' | 'opfs-sync-handle' | 'atomics-wait-async';
export type CheckStatus = 'pending' | 'pass' | 'fail';

export const SCREENSHOT_DIR = 'test-results/screenshots';

export async function openLab(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Disk Lab' })).toBeVisible();
}

export function platformCheckPanel(page: Page): Locator {
  return page.getByRole('region', { name: 'Platform check' });
}

export function platformCheck(page: Page, id: CheckId): Locator {
  return platformCheckPanel(page).getByTestId(`check-${id}`);
}

/** Waits until the check has finished (not pending) and returns its status and detail text. */
export async function settledCheck(page: Page, id: CheckId): Promise<{ status: CheckStatus; detail: string }> {
  const row = platformCheck(page, id);
  await expect(row).not.toHaveAttribute('data-status', 'pending');
  const status = (await row.getAttribute('data-status')) as CheckStatus;
  const detail = (await row.getByRole('status').textContent()) ?? '';
  return { status, detail };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = `${SCREENSHOT_DIR}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
