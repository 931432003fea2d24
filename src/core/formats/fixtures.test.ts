/**
 * The committed fixture images (fixtures/images/, made by scripts/make-fixtures.sh with
 * qemu-img/qemu-io) read through our readers, checked against what qemu-img read from the same
 * files when they were made (fixtures/images/manifest.json): the sha256 of every byte of the
 * disk (whole backing chain; each internal snapshot too), the virtual size, the sector size and
 * the backing file. Needs no QEMU at test time, so CI proves the readers from committed files.
 *
 * Every byte is read in 1 MiB chunks and hashed as it streams (no image-sized buffers); the
 * manifest also has a hash per MiB, so a mismatch names the first MiB that differs.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import { NodeSyncFile } from '../../node/node-sync-file.ts';
import { nodeInflate } from '../../node/node-inflate.ts';
import { openImage } from '../../node/open-image.ts';
import { nodeParentResolver } from '../../node/resolve-parent.ts';
import { imageFileFromSync } from './image-file.ts';
import { openQcow2, readQcow2Header } from './qcow2/open.ts';

interface Hashed {
  readonly rawSha256: string;
  readonly chunkSha256: readonly string[];
}

interface FixtureSnapshot extends Hashed {
  readonly id: string | null;
  readonly name: string;
}

interface FixtureImage extends Hashed {
  readonly file: string;
  /** qemu-img's format name: raw, vpc, vhdx, qcow2. */
  readonly format: string;
  readonly virtualSize: number;
  readonly fileSize: number;
  /** The backing file name as the image records it (qemu-img info's backing-filename). */
  readonly backingFile: string | null;
  readonly backingFormat: string | null;
  readonly logicalSectorSize?: number;
  readonly snapshots?: readonly FixtureSnapshot[];
}

interface Manifest {
  readonly chunkSize: number;
  readonly images: readonly FixtureImage[];
}

const dir = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
const CHUNK = manifest.chunkSize;

/**
 * Fixtures our readers cannot open yet: each must still be refused with this exact error code
 * (never read wrongly). When a reader learns the feature this test fails: move the fixture out.
 */
const KNOWN_GAPS: Readonly<Record<string, { readonly code: DiskError['code']; readonly why: string }>> = {};

/** sha256 of the whole disk and of each CHUNK-byte piece, read a chunk at a time. */
async function hashDisk(disk: Disk): Promise<{ whole: string; chunks: string[] }> {
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const sectorsPerChunk = CHUNK / disk.sectorSize;
  const buf = new Uint8Array(CHUNK);
  for (let lba = 0; lba < disk.sectorCount(); lba += sectorsPerChunk) {
    const n = Math.min(sectorsPerChunk, disk.sectorCount() - lba);
    const part = buf.subarray(0, n * disk.sectorSize);
    part.fill(0xa5); // so a read that leaves bytes untouched cannot pass as zeroes
    await disk.read(lba, part);
    whole.update(part);
    chunks.push(createHash('sha256').update(part).digest('hex'));
  }
  return { whole: whole.digest('hex'), chunks };
}

function expectSameHashes(got: { whole: string; chunks: string[] }, want: Hashed, what: string): void {
  const firstBad = want.chunkSha256.findIndex((h, i) => got.chunks[i] !== h);
  const where = firstBad < 0 ? '' : `; first differing MiB starts at byte ${firstBad * CHUNK}`;
  expect(got.chunks.length, `${what}: chunk count`).toBe(want.chunkSha256.length);
  expect(got.whole, `${what}: sha256 of every byte differs from qemu-img's${where}`).toBe(want.rawSha256);
}

describe('fixture manifest', () => {
  it('lists every image in fixtures/images/ and only those, with consistent hashes', () => {
    const files = fs.readdirSync(dir).filter((f) => f !== 'manifest.json').sort();
    expect(manifest.images.map((i) => i.file).sort()).toEqual(files);
    for (const image of manifest.images) {
      expect(fs.statSync(path.join(dir, image.file)).size, image.file).toBe(image.fileSize);
      expect(image.chunkSha256.length, image.file).toBe(Math.ceil(image.virtualSize / CHUNK));
      expect(image.rawSha256, image.file).toMatch(/^[0-9a-f]{64}$/);
    }
    // The set covers what it exists to cover.
    const formats = new Set(manifest.images.map((i) => i.format));
    expect([...formats].sort()).toEqual(['qcow2', 'raw', 'vhdx', 'vpc']);
    expect(manifest.images.some((i) => i.snapshots !== undefined && i.snapshots.length >= 2)).toBe(true);
    expect(manifest.images.some((i) => i.logicalSectorSize === 4096)).toBe(true);
  });
});

describe.each(manifest.images.filter((i) => KNOWN_GAPS[i.file] === undefined))('fixture $file', (image) => {
  const file = path.join(dir, image.file);

  it('reads every byte qemu-img read (sha256 of the whole chain)', async () => {
    const opened = await openImage(file, { format: image.format, readOnly: true });
    try {
      expect(opened.disk.sectorCount() * opened.disk.sectorSize, 'virtual size').toBe(image.virtualSize);
      expect(opened.disk.sectorSize, 'logical sector size').toBe(image.logicalSectorSize ?? 512);
      expectSameHashes(await hashDisk(opened.disk), image, image.file);
    } finally {
      await opened.disk.close();
    }
  });

  it('is detected by content as the format qemu-img made', async () => {
    const opened = await openImage(file, { readOnly: true });
    try {
      expect(opened.detected).toBe(true);
      expect(opened.format === 'vhd' ? 'vpc' : opened.format).toBe(image.format);
    } finally {
      await opened.disk.close();
    }
  });

  it('names the backing file qemu-img names', async () => {
    const opened = await openImage(file, { format: image.format, readOnly: true });
    try {
      const chain = opened.structured?.chain ?? [file];
      if (image.backingFile === null) {
        expect(chain).toHaveLength(1);
      } else {
        expect(path.basename(chain[1] ?? '')).toBe(path.basename(image.backingFile));
      }
      if (image.format === 'qcow2') {
        const header = await readQcow2Header(imageFileFromSync(new NodeSyncFile(file, { readOnly: true }), { name: file, writable: false }));
        expect(header.backingFile ?? null).toBe(image.backingFile);
        expect(header.backingFormat ?? null).toBe(image.backingFormat);
      }
    } finally {
      await opened.disk.close();
    }
  });

  for (const snap of image.snapshots ?? []) {
    it(`snapshot '${snap.name}' reads what qemu-img convert -l read`, async () => {
      for (const key of [snap.name, snap.id].filter((k): k is string => k !== null)) {
        const disk = await openQcow2(imageFileFromSync(new NodeSyncFile(file, { readOnly: true }), { name: file, writable: false }), {
          inflate: nodeInflate,
          snapshot: key,
          resolveBacking: (name) => nodeParentResolver(file)([name]),
        });
        try {
          expectSameHashes(await hashDisk(disk), snap, `${image.file} snapshot ${key}`);
        } finally {
          await disk.close();
        }
      }
    });
  }
});

describe.each(Object.entries(KNOWN_GAPS))('fixture %s (known reader gap)', (name, gap) => {
  it(`is refused with ${gap.code}: ${gap.why}`, async () => {
    const error = await openImage(path.join(dir, name), { readOnly: true }).then(
      async (opened) => {
        await opened.disk.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error, `${name} opened: remove it from KNOWN_GAPS so its bytes are checked`).toBeInstanceOf(DiskError);
    expect((error as DiskError).code).toBe(gap.code);
  });
});
