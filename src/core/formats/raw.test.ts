import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../node/node-sync-file.ts';
import { openDisk } from '../disk/open-disk.ts';
import { describeDiskConformance, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { openRaw } from './raw.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-raw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;

describeDiskConformance({
  name: 'raw image',
  sectorSizes: [512],
  maxSectors: () => 2 ** 31,
  make: async ({ sectors, readOnly }) => {
    const p = path.join(dir, `r${counter++}.img`);
    fs.writeFileSync(p, '');
    fs.truncateSync(p, sectors * 512);
    return openRaw(new NodeSyncFile(p, { readOnly }), { readOnly, name: p });
  },
});

describe('raw image', () => {
  it('is the file itself: sector n at byte n * 512', async () => {
    const p = path.join(dir, 'plain.img');
    fs.writeFileSync(p, pattern(8 * 512, 3));
    const disk = openDisk(openRaw(new NodeSyncFile(p)));
    expect(disk.diskType).toBe('raw');
    expect(disk.diskId).toBeUndefined();
    await disk.write(2, pattern(512, 9));
    await disk.close();
    expectSameBytes(fs.readFileSync(p).subarray(1024, 1536), pattern(512, 9));
  });

  it('exposes a partial last sector, reading its missing tail as zeroes (as QEMU does)', async () => {
    const p = path.join(dir, 'odd.img');
    const content = pattern(1000, 4);
    fs.writeFileSync(p, content);
    const disk = openDisk(openRaw(new NodeSyncFile(p, { readOnly: true }), { readOnly: true }));
    expect(disk.sectorCount()).toBe(2);
    const buf = new Uint8Array(1024);
    await disk.read(0, buf);
    const expected = new Uint8Array(1024);
    expected.set(content);
    expectSameBytes(buf, expected);
    await disk.close();
  });
});
