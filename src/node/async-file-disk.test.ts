import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './testing/temp-files.ts';
import { describeDiskConformance, expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { AsyncFileDisk } from './async-file-disk.ts';

const { dir, newFile } = useTempDir('disklab-asyncdisk-');

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
