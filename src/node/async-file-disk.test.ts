import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDiskConformance, expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { AsyncFileDisk } from './async-file-disk.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-asyncdisk-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

function newFile(bytes: number): string {
  const p = path.join(dir, `disk-${n++}.img`);
  fs.writeFileSync(p, '');
  fs.truncateSync(p, bytes);
  return p;
}

describeDiskConformance({
  name: 'AsyncFileDisk over fs.promises',
  sectorSizes: [512],
  make: async ({ sectors, readOnly }) => AsyncFileDisk.open(newFile(sectors * 512), { readOnly }),
  maxSectors: () => 2 ** 40 / 512,
});

describe('AsyncFileDisk', () => {
  it('keeps writes in flight together apart, each at byte n * 512 of the file', async () => {
    const p = newFile(64 * 512);
    const disk = await AsyncFileDisk.open(p);
    await Promise.all(Array.from({ length: 8 }, (_, i) => disk.write(i * 8, pattern(8 * 512, i + 1))));
    await disk.close();
    const bytes = new Uint8Array(fs.readFileSync(p));
    for (let i = 0; i < 8; i++) expectSameBytes(bytes.subarray(i * 4096, (i + 1) * 4096), pattern(4096, i + 1), `block ${i}`);
  });

  it('names the file when it cannot be opened', async () => {
    await expect(AsyncFileDisk.open(path.join(dir, 'missing.img'))).rejects.toMatchObject({ code: 'IO', message: expect.stringContaining('missing.img') });
  });
});
