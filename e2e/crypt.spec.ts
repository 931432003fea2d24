/**
 * Encryption at rest in the page (Chromium): an XTS-AES-256 layer (the Rust/wasm cipher in the
 * disk worker) added over the sample with a passphrase; a pattern written through the terminal is
 * plaintext above the layer and ciphertext below it in the hex view; the passphrase never shows
 * up in the page; a wrong passphrase on reopening the header is refused with a clear message.
 * A key-file layer's ciphertext, as the hex view shows it, is what OpenSSL's aes-256-xts makes.
 */
import { createCipheriv } from 'node:crypto';
import { expect } from '@playwright/test';
import { addPassphraseEncryption, hexLevel, hexSector, openLabWithSample, panel, panelScreenshot, terminalRun, test } from './helpers.ts';

const SECRET = 'correct horse battery staple';
const AB_SECTOR = 'ab'.repeat(512);

test('an encryption layer shows plaintext above and ciphertext below, and refuses a wrong passphrase on reopen', async ({ page }) => {
  test.setTimeout(90_000);
  await openLabWithSample(page);
  const stack = panel(page, 'stack');
  await addPassphraseEncryption(page, 'new', SECRET);
  const cryptNode = stack.locator('[data-testid="stack-node"][data-role="decorator"][data-label^="XTS-AES-256"]');
  await expect(cryptNode).toHaveCount(1);
  await expect(stack.getByTestId('crypt-form').getByLabel('Passphrase')).toHaveValue('');

  const log = await terminalRun(page, 'write -P 0xab 0 512');
  await expect(log).toContainText('wrote 512/512 bytes at offset 0');

  await hexSector(page, 0);
  const dump = panel(page, 'hex').getByTestId('hex-dump');
  await expect(dump).toHaveAttribute('data-hex', AB_SECTOR);
  const below = await hexLevel(page, 'ciphertext');
  await expect(below).toHaveAttribute('data-inner-lba', '8'); // after the 4 KiB passphrase header
  const cipherHex = (await below.getAttribute('data-hex')) ?? '';
  expect(cipherHex).toHaveLength(1024);
  expect(cipherHex).not.toBe(AB_SECTOR);
  expect(cipherHex).not.toMatch(/^0+$/);
  await panelScreenshot(page, 'hex');
  await expect(await hexLevel(page, 'plaintext')).toHaveAttribute('data-hex', AB_SECTOR);
  expect(await page.content()).not.toContain(SECRET);

  // Remove the layer: the header and ciphertext stay in the RAM diff below; reopen it.
  await stack.getByRole('button', { name: /^Remove XTS-AES-256/ }).click();
  await expect(cryptNode).toHaveCount(0);
  await expect(panel(page, 'hex').getByTestId('hex-level')).toHaveCount(0);
  await hexSector(page, 0);
  await expect(dump).toHaveAttribute('data-hex', new RegExp(`^${Buffer.from('DLCRYPT\0').toString('hex')}`));

  await addPassphraseEncryption(page, 'existing', 'not the passphrase');
  await expect(stack.getByTestId('crypt-error')).toContainText('wrong passphrase');
  await expect(cryptNode).toHaveCount(0);

  await addPassphraseEncryption(page, 'existing', SECRET);
  await expect(cryptNode).toHaveCount(1);
  await expect(stack.getByTestId('crypt-error')).toHaveCount(0);
  await hexSector(page, 0);
  await expect(dump).toHaveAttribute('data-hex', AB_SECTOR);
  await panelScreenshot(page, 'stack');
});

test('a key-file layer stores exactly what OpenSSL aes-256-xts makes of the plaintext (tweak = sector + IV offset)', async ({ page }) => {
  await openLabWithSample(page);
  const key = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 29 + 3) & 0xff));
  const form = panel(page, 'stack').getByTestId('crypt-form');
  await form.getByLabel('Encryption key').selectOption('key-file');
  await form.getByLabel('Key file').setInputFiles({ name: 'disk.key', mimeType: 'application/octet-stream', buffer: key });
  await form.getByLabel('IV offset').fill('0x100');
  await form.getByRole('button', { name: 'Add encryption' }).click();
  await expect(panel(page, 'stack').locator('[data-testid="stack-node"][data-label^="XTS-AES-256 encryption (key file, IV offset 256)"]')).toHaveCount(1);

  await terminalRun(page, 'write -P 0xab 1024 512');
  await hexSector(page, 2);
  const dump = panel(page, 'hex').getByTestId('hex-dump');
  await expect(dump).toHaveAttribute('data-hex', AB_SECTOR);
  await hexLevel(page, 'ciphertext');
  await expect(dump).toHaveAttribute('data-inner-lba', '2');
  const tweak = Buffer.alloc(16);
  tweak.writeBigUInt64LE(2n + 0x100n, 0);
  const c = createCipheriv('aes-256-xts', key, tweak);
  const expected = Buffer.concat([c.update(Buffer.alloc(512, 0xab)), c.final()]).toString('hex');
  await expect(dump).toHaveAttribute('data-hex', expected);
});
