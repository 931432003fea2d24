import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeSyncFile } from './node-sync-file.ts';
import { useTempDir } from './testing/temp-files.ts';
import { FileDisk } from '../core/backends/file-disk.ts';
import { describeDiskConformance, expectDiskError, pattern } from '../core/testing/disk-conformance.ts';
import { openDisk } from '../core/disk/open-disk.ts';

const { dir, newFile } = useTempDir('disklab-filedisk-');

describeDiskConformance({
  name: 'FileDisk over node:fs',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new FileDisk(new NodeSyncFile(newFile(sectors * sectorSize), { readOnly }), { sectorSize, readOnly }),
  // ext4 and tmpfs cap a sparse file well below 2^53 bytes; 1 TiB is supported everywhere we run.
  maxSectors: (sectorSize) => 2 ** 40 / sectorSize,
});

describe('FileDisk', () => {
  it('puts sector n at byte n * sectorSize of the file', async () => {
    const p = newFile(8 * 4096);
    const disk = openDisk(new FileDisk(new NodeSyncFile(p), { sectorSize: 4096 }));
    await disk.write(3, pattern(4096, 1));
    await disk.flush();
    await disk.close();
    expect(new Uint8Array(fs.readFileSync(p)).subarray(3 * 4096, 4 * 4096)).toEqual(pattern(4096, 1));
  });

  it('never exposes a trailing partial sector', () => {
    const disk = new FileDisk(new NodeSyncFile(newFile(1000)));
    expect(disk.sectorCount()).toBe(1);
  });

  it('reports a missing file as an IO error naming it', async () => {
    const missing = path.join(dir, 'missing.img');
    await expectDiskError(Promise.resolve().then(() => new NodeSyncFile(missing)), 'IO');
  });
});
