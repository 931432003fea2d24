/**
 * Typed helpers for the e2e specs: locators for the page's panels by role and test id, page and
 * panel screenshots into test-results/screenshots/ (kept after the run; Playwright's own outputDir
 * is cleared at each start), dropping files on the page, driving the terminal and the controller,
 * and reading the data the panels expose (occupancy, image chains, partitions).
 */
import { expect, test as base, type Locator, type Page } from '@playwright/test';

export type CheckId = 'cross-origin-isolated' | 'opfs-sync-handle' | 'atomics-wait-async';
export type CheckStatus = 'pending' | 'pass' | 'fail';
export type PanelName = 'stack' | 'occupancy' | 'controller' | 'latency' | 'hex' | 'terminal' | 'open' | 'images' | 'partitions';

export const SCREENSHOT_DIR = 'test-results/screenshots';

/**
 * `test` that fails when the page logs a console error or throws: the lab must run clean. Specs
 * that expect an error on purpose filter `labErrors` themselves.
 */
export const test = base.extend<{ labErrors: string[] }>({
  labErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      await use(errors);
      expect(errors, 'console errors on the page').toEqual([]);
    },
    { auto: true },
  ],
});

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

export function panel(page: Page, name: PanelName): Locator {
  return page.getByTestId(`panel-${name}`);
}

/** A screenshot of one panel, test-results/screenshots/<name>.png. */
export async function panelScreenshot(page: Page, name: PanelName): Promise<string> {
  const path = `${SCREENSHOT_DIR}/${name}.png`;
  const p = panel(page, name);
  await p.scrollIntoViewIfNeeded();
  await p.screenshot({ path });
  return path;
}

/** The page after first load: lab open with the sample's stack shown. */
export async function openLabWithSample(page: Page): Promise<void> {
  await openLab(page);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd');
  await expect(panel(page, 'stack').getByTestId('stack-node').first()).toBeVisible();
}

export function activeStackTab(page: Page): Locator {
  return page.getByRole('list', { name: 'Open stacks' }).getByRole('button', { pressed: true });
}

/** Drops files on the page the way a person drags them from a file manager. */
export async function dropFiles(page: Page, files: readonly { name: string; data: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: f.data.toString('base64') }));
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: 'application/octet-stream' }));
    }
    return dt;
  }, payload);
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

/** Types one line into the terminal and waits until its output is in the log. */
export async function terminalRun(page: Page, line: string): Promise<Locator> {
  const log = page.getByTestId('terminal-log');
  const before = await log.locator('div').count();
  await page.getByTestId('terminal').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  // The echo of the line, then at least one result line.
  await expect(log.locator('div')).not.toHaveCount(before);
  await expect.poll(async () => (await log.locator('div').count()) > before + 1).toBe(true);
  return log;
}

/** Fills the controller form (after choosing `preset`), starts the job and waits for it to end. */
export async function runWorkload(page: Page, preset: string, fields: Partial<Record<'rw' | 'bs' | 'iodepth' | 'queues' | 'size' | 'offset' | 'runtime (s)' | 'ios', string>> = {}, timeout = 60_000): Promise<Locator> {
  const controller = panel(page, 'controller');
  await controller.getByLabel('Preset').selectOption(preset);
  for (const [label, value] of Object.entries(fields)) {
    const field = controller.getByLabel(label, { exact: true });
    if (label === 'rw') await field.selectOption(value);
    else await field.fill(value);
  }
  await controller.getByRole('button', { name: 'Start' }).click();
  const phase = controller.getByTestId('workload-phase');
  await expect(phase).toHaveAttribute('data-phase', /done|failed/, { timeout });
  await expect(controller.getByTestId('workload-error')).toHaveCount(0);
  return controller.getByTestId('workload-result');
}

export interface OccupancyData {
  readonly lba: number;
  readonly count: number;
  readonly buckets: number;
  readonly reads: number;
  readonly topCounts: Record<string, number>;
  readonly sectorsHeld: { index: number; name: string; sectors: number }[];
  readonly firstTopLba: Record<string, number>;
}

export async function occupancyData(page: Page): Promise<OccupancyData> {
  const out = page.getByTestId('occupancy-data');
  await expect(out).toHaveAttribute('data-buckets', /\d+/);
  const attr = async (name: string) => (await out.getAttribute(name)) ?? '';
  return {
    lba: Number(await attr('data-lba')),
    count: Number(await attr('data-count')),
    buckets: Number(await attr('data-buckets')),
    reads: Number(await attr('data-reads')),
    topCounts: JSON.parse(await attr('data-top-counts')) as Record<string, number>,
    sectorsHeld: JSON.parse(await attr('data-sectors-held')) as OccupancyData['sectorsHeld'],
    firstTopLba: JSON.parse(await attr('data-first-top-lba')) as Record<string, number>,
  };
}

/** Shows sector `lba` in the hex view and returns its bytes (hex) and the layer that supplied it. */
export async function hexSector(page: Page, lba: number): Promise<{ hex: string; source: string }> {
  const hex = panel(page, 'hex');
  await hex.getByLabel('Sector number').fill(String(lba));
  await hex.getByRole('button', { name: 'Show' }).click();
  const dump = hex.getByTestId('hex-dump');
  await expect(dump).toHaveAttribute('data-lba', String(lba));
  return { hex: (await dump.getAttribute('data-hex')) ?? '', source: (await dump.getAttribute('data-source')) ?? '' };
}

/** The active stack's image chain files as the stack panel lists them, child first. */
export async function chainFiles(page: Page): Promise<string[]> {
  return panel(page, 'stack').getByTestId('chain-file').evaluateAll((items) => items.map((i) => i.getAttribute('data-file') ?? ''));
}

export interface OccupancyRow {
  readonly index: number;
  readonly name: string;
  /** The chain file the row is, or '' for a layer that is not one (the RAM diff). */
  readonly file: string;
  readonly sectors: number;
}

/** The occupancy panel's per-layer rows (one per chain file, plus the RAM diff), top first. */
export async function occupancyRows(page: Page): Promise<OccupancyRow[]> {
  return panel(page, 'occupancy').getByTestId('occupancy-row').evaluateAll((rows) =>
    rows.map((r) => ({
      index: Number(r.getAttribute('data-layer-index')),
      name: r.getAttribute('data-name') ?? '',
      file: r.getAttribute('data-file') ?? '',
      sectors: Number(r.getAttribute('data-sectors')),
    })),
  );
}

/** The prompt shown when a chain's parent is missing. */
export function missingParentPrompt(page: Page): Locator {
  return panel(page, 'open').getByTestId('missing-parent');
}

/** Picks `file` in the missing-parent prompt's "choose parent <wanted>" input. */
export async function chooseParent(page: Page, wanted: string, file: { name: string; data: Buffer }): Promise<void> {
  await missingParentPrompt(page).getByLabel(`choose parent ${wanted}`).setInputFiles({ name: file.name, mimeType: 'application/octet-stream', buffer: file.data });
}

export interface PartitionRow {
  readonly index: number;
  readonly start: number;
  readonly sectors: number;
  readonly type: string;
  readonly bootable: boolean;
}

/** The partition panel's rows (waits for a table to be shown). */
export async function partitionRows(page: Page): Promise<{ scheme: string; rows: PartitionRow[] }> {
  const table = panel(page, 'partitions').getByTestId('partition-table');
  await expect(table).toBeVisible();
  const rows = await table.getByTestId('partition-row').evaluateAll((trs) =>
    trs.map((r) => ({
      index: Number(r.getAttribute('data-index')),
      start: Number(r.getAttribute('data-start')),
      sectors: Number(r.getAttribute('data-sectors')),
      type: r.getAttribute('data-type') ?? '',
      bootable: r.getAttribute('data-bootable') === 'true',
    })),
  );
  return { scheme: (await table.getAttribute('data-scheme')) ?? '', rows };
}

/** Adds an encryption layer from the stack panel's form with a passphrase, new (formats a header) or existing (opens it). */
export async function addPassphraseEncryption(page: Page, mode: 'new' | 'existing', passphrase: string): Promise<void> {
  const form = panel(page, 'stack').getByTestId('crypt-form');
  await form.getByLabel('Encryption key').selectOption(mode === 'new' ? 'new-passphrase' : 'passphrase');
  await form.getByLabel('Passphrase').fill(passphrase);
  await form.getByRole('button', { name: 'Add encryption' }).click();
  // PBKDF2 with 600,000 iterations runs first: wait for the button to come back.
  await expect(form.getByRole('button', { name: 'Add encryption' })).toBeEnabled({ timeout: 30_000 });
}

/** Chooses the hex view's level on a stack with an encryption layer, and returns the dump shown. */
export async function hexLevel(page: Page, level: 'plaintext' | 'ciphertext'): Promise<Locator> {
  const hex = panel(page, 'hex');
  await hex.getByTestId('hex-level').getByLabel(level === 'plaintext' ? /plaintext/ : /ciphertext/).check();
  const dump = hex.getByTestId('hex-dump');
  await expect(dump).toHaveAttribute('data-view', level === 'plaintext' ? 'top' : 'below-crypt');
  return dump;
}
