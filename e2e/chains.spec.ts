/**
 * Image chains and partition tables in the page (Chromium): three-file qcow2 and differencing VHD
 * chains dropped at once in any order open as one stack whose layers are the chain's files, with
 * an occupancy row per file and the guest's bytes equal to qemu-img's raw conversion (qcow2) or
 * to the writes made (VHD); a child dropped alone asks for its parent by name and opens once it
 * is given; a wrong parent is refused with CORRUPT_IMAGE; the sample's MBR partition is listed.
 */
import { expect, type Page } from '@playwright/test';
import { CHAIN_SECTORS, qcow2Chain, vhdChain, type Chain } from './fixtures-ui/chains.ts';
import { SECTOR, hexOf, rawImage, dynamicVhd } from './fixtures-ui/images.ts';
import {
  activeStackTab,
  chainFiles,
  chooseParent,
  dropFiles,
  hexSector,
  missingParentPrompt,
  occupancyRows,
  openLabWithSample,
  panel,
  panelScreenshot,
  partitionRows,
  runWorkload,
  terminalRun,
  test,
} from './helpers.ts';

/** The stack shows the chain's three files, child first, one occupancy row each with what it holds. */
async function expectChainShown(page: Page, chain: Chain): Promise<void> {
  const [top] = chain.files;
  await expect(activeStackTab(page)).toHaveAttribute('data-name', top.name);
  await expect.poll(() => chainFiles(page)).toEqual(chain.files.map((f) => f.name));
  await expect(panel(page, 'stack').getByTestId('layer-row')).toHaveCount(4); // the RAM diff, then the three files
  await expect.poll(async () => (await occupancyRows(page)).filter((r) => r.file !== '').length).toBe(3);
  const rows = (await occupancyRows(page)).filter((r) => r.file !== '');
  expect(rows.map((r) => [r.index, r.file, r.sectors])).toEqual(chain.files.map((f, i) => [i + 1, f.name, f.sectorsHeld]));
}

/** Sectors across every write, the base and the zero tail read the same as `chain.raw`; each written run comes from its file. */
async function expectChainBytes(page: Page, chain: Chain): Promise<void> {
  for (const lba of [0, 100, 300, CHAIN_SECTORS / 2 + 10, CHAIN_SECTORS - 1]) {
    const sector = await hexSector(page, lba);
    expect(sector.hex, `LBA ${lba}`).toBe(hexOf(chain.raw.subarray(lba * SECTOR, (lba + 1) * SECTOR)));
  }
  for (const [fileIndex, writes] of chain.writes.entries()) {
    for (const [lba, count, byte] of writes) {
      const sector = await hexSector(page, lba + count - 1);
      expect(sector.hex).toBe(hexOf(chain.raw.subarray((lba + count - 1) * SECTOR, (lba + count) * SECTOR)));
      // Top writes shadow what the parent wrote in the same place, so only the top's runs are sure to be its own.
      if (fileIndex === 0) expect(sector.source).toMatch(new RegExp(`^layer ${fileIndex + 1}`));
      const log = await terminalRun(page, `read -P 0x${byte.toString(16)} ${(lba + count - 1) * SECTOR} ${SECTOR}`);
      await expect(log).not.toContainText('Pattern verification failed');
    }
  }
}

test('a three-file qcow2 chain dropped in any order opens as one stack of its files', async ({ page }) => {
  test.setTimeout(60_000);
  const chain = qcow2Chain();
  await openLabWithSample(page);
  const [top, mid, base] = chain.files;
  await dropFiles(page, [mid, base, top]);
  await expectChainShown(page, chain);
  // One sequential pass over the disk: each file serves the clusters it holds that no file above
  // it holds too (top.qcow2 copied up the cluster mid.qcow2 wrote at 128 KiB), the rest is zeroes.
  const result = await runWorkload(page, '4k random read QD32', { rw: 'read', bs: '64k', iodepth: '4', 'runtime (s)': '' });
  await expect(result).toHaveAttribute('data-errors', '0');
  const served = async () => panel(page, 'stack').getByTestId('layer-served').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-served'))));
  await expect.poll(served).toEqual([0, 256, 128, expect.any(Number)]);
  // ...and the counts are the live ones from the shared attribution buffer, one slot per chain file.
  await expect(panel(page, 'stack').getByRole('table', { name: 'Layers' })).toHaveAttribute('data-served-source', 'shared');
  const [, , , fromBase] = await served();
  // The partition view's look at sectors 0-1 is served by the base too.
  expect(fromBase! - 3968).toBeGreaterThanOrEqual(0);
  expect(fromBase! - 3968).toBeLessThan(8);
  await expectChainBytes(page, chain);
  await expect(page.getByRole('list', { name: 'Open stacks' }).getByTestId('stack-tab')).toHaveCount(2); // the sample and the chain
  await panelScreenshot(page, 'occupancy');
  await panelScreenshot(page, 'stack');
});

test('a differencing VHD chain made by disklab create -b opens from its three dropped files', async ({ page }) => {
  test.setTimeout(60_000);
  const chain = vhdChain();
  await openLabWithSample(page);
  const [top, mid, base] = chain.files;
  await dropFiles(page, [base, top, mid]);
  await expectChainShown(page, chain);
  await expectChainBytes(page, chain);
});

test('a child dropped alone names its missing parent, and opens once the parents are given', async ({ page }) => {
  const chain = qcow2Chain();
  await openLabWithSample(page);
  const [top, mid, base] = chain.files;
  await dropFiles(page, [top]);
  const prompt = missingParentPrompt(page);
  await expect(prompt).toHaveAttribute('data-wanted', 'mid.qcow2');
  await expect(page.getByTestId('status-line')).toContainText('needs its parent mid.qcow2');
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'sample.vhd');
  await panelScreenshot(page, 'open');
  // Picked under another name: the prompt asked for mid.qcow2, so this file stands for it.
  await chooseParent(page, 'mid.qcow2', { name: 'renamed-mid.qcow2', data: mid.data });
  await expect(prompt).toHaveAttribute('data-wanted', 'base.qcow2');
  await expect(prompt).toHaveAttribute('data-child', 'renamed-mid.qcow2');
  // The last one is dropped on the page instead.
  await dropFiles(page, [base]);
  await expect(prompt).toHaveCount(0);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'top.qcow2');
  await expect.poll(() => chainFiles(page)).toEqual(['top.qcow2', 'renamed-mid.qcow2', 'base.qcow2']);
  const sector = await hexSector(page, 280);
  expect(sector.hex).toBe(hexOf(chain.raw.subarray(280 * SECTOR, 281 * SECTOR)));
});

test('a wrong parent is refused with CORRUPT_IMAGE, and the right one can still be chosen', async ({ page }) => {
  test.setTimeout(60_000); // making the VHD chain runs the disklab CLI six times
  const chain = vhdChain();
  await openLabWithSample(page);
  const [top, mid, base] = chain.files;
  // base.vhd is named by no dropped file, so it also opens on its own; the prompt still asks for mid.vhd.
  await dropFiles(page, [top, base]);
  const prompt = missingParentPrompt(page);
  await expect(prompt).toHaveAttribute('data-wanted', 'mid.vhd');
  await expect(page.getByTestId('status-line')).toContainText('top.vhd is part of a chain: top.vhd needs its parent mid.vhd');
  // Another VHD picked as mid.vhd: its unique id is not the one top.vhd records.
  await chooseParent(page, 'mid.vhd', { name: 'other.vhd', data: dynamicVhd(rawImage(CHAIN_SECTORS, 4)) });
  await expect(page.getByTestId('status-line')).toContainText('CORRUPT_IMAGE');
  await expect(page.getByTestId('status-line')).toContainText('unique id');
  await expect(prompt).toHaveAttribute('data-wanted', 'mid.vhd');
  await chooseParent(page, 'mid.vhd', mid);
  await expect(prompt).toHaveCount(0);
  await expectChainShown(page, chain);
});

test('the partition view lists the sample MBR partition, and says when there is no table', async ({ page }) => {
  await openLabWithSample(page);
  const { scheme, rows } = await partitionRows(page);
  expect(scheme).toBe('mbr');
  expect(rows).toEqual([{ index: 1, start: 2048, sectors: 30720, type: '0x83', bootable: false }]);
  await expect(panel(page, 'partitions')).toContainText('Linux');
  await panelScreenshot(page, 'partitions');
  // A raw image of patterned sectors has no MBR signature.
  await dropFiles(page, [{ name: 'plain.img', data: rawImage(2048, 3) }]);
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'plain.img');
  await expect(panel(page, 'partitions').getByTestId('partition-none')).toBeVisible();
});
