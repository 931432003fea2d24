/**
 * Oracle tests: images built by qemu-img/qemu-io, every byte read compared with
 * `qemu-img convert -O raw`. Registered only when the tools exist (required on CI).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import { nodeInflate } from '../../../node/node-inflate.ts';
import { imageFileFromSync, type ImageFile } from '../image-file.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import { RamLayer } from '../../layered/ram-layer.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes } from '../../testing/disk-conformance.ts';
import { SectorBitmap } from '../../layered/sector-bitmap.ts';
import type { Disk } from '../../disk/disk.ts';
import { openQcow2, openQcow2Layer } from './open.ts';
import { qemuToolsAvailable } from '../../../node/qemu-tools.ts';

const hasQemu = qemuToolsAvailable();

const img = (...args: string[]): string => execFileSync('qemu-img', args, { encoding: 'utf8' });
const io = (path: string, ...cmds: string[]): void => {
  execFileSync('qemu-io', ['-f', 'qcow2', ...cmds.flatMap((c) => ['-c', c]), path], { stdio: 'ignore' });
};
const open = (path: string): ImageFile => imageFileFromSync(new NodeSyncFile(path, { readOnly: true }), { name: path, writable: false });

const dir = hasQemu ? mkdtempSync(join(tmpdir(), 'qcow2-test-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const at = (name: string): string => join(dir, name);

function qemuRaw(path: string, snapshot?: string): Uint8Array {
  const out = at(`raw-${Math.random().toString(36).slice(2)}.img`);
  img('convert', ...(snapshot ? ['-l', snapshot] : []), '-f', 'qcow2', '-O', 'raw', path, out);
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(out);
  return bytes;
}

async function readAll(disk: Disk): Promise<Uint8Array> {
  const buf = new Uint8Array(disk.sectorCount() * disk.sectorSize);
  // Uneven chunks, so reads straddle cluster and subcluster boundaries.
  for (let lba = 0, step = 7; lba < disk.sectorCount(); lba += step, step = (step * 3) % 97 + 1) {
    const n = Math.min(step, disk.sectorCount() - lba);
    await disk.read(lba, buf.subarray(lba * 512, (lba + n) * 512));
  }
  return buf;
}

const writes = [
  'write -P 0x11 0 4k',
  'write -P 0x22 65024 1k', // straddles a 64k cluster boundary
  'write -P 0x33 1M 300k',
  'write -P 0x44 3M 512',
  'write -z 1M 64k',
  'write -P 0x55 5000k 12k',
  'write -z 6M 1M',
];

function makeImage(name: string, opts: string, size = '8M', cmds = writes): string {
  const path = at(name);
  img('create', '-q', '-f', 'qcow2', '-o', opts, path, size);
  io(path, ...cmds);
  return path;
}

async function expectLikeQemu(path: string, extra: { snapshot?: string; backing?: boolean } = {}): Promise<void> {
  const disk = await openQcow2(open(path), {
    inflate: nodeInflate,
    ...(extra.snapshot ? { snapshot: extra.snapshot } : {}),
    resolveBacking: async (name) => open(name.startsWith('/') ? name : at(name)),
  });
  expectSameBytes(await readAll(disk), qemuRaw(path, extra.snapshot), path);
  await disk.close();
}

if (hasQemu) {
  describe('qcow2 reader against qemu-img', () => {
    it('reads a v2 (compat=0.10) image byte for byte', async () => {
      await expectLikeQemu(makeImage('v2.qcow2', 'compat=0.10'));
    });
    it('reads a v3 (compat=1.1) image with zero clusters byte for byte', async () => {
      const path = makeImage('v3.qcow2', 'compat=1.1');
      await expectLikeQemu(path);
      const { layer, header } = await openQcow2Layer(open(path), { inflate: nodeInflate });
      expect(header.version).toBe(3);
      const runs = await layer.presence(0, layer.sectorCount());
      expect(runs.some((r) => r.state === 'zero' && r.lba === 6 * 2048 && r.count === 2048)).toBe(true);
      expect(layer.bytesPresent()).toBeGreaterThan(0);
      await layer.close();
    });
    it('reads 512-byte and 2 MiB clusters', async () => {
      await expectLikeQemu(makeImage('c512.qcow2', 'cluster_size=512', '4M', writes.slice(0, 4)));
      await expectLikeQemu(makeImage('c2m.qcow2', 'cluster_size=2M', '8M'));
    });
    it('reads extended L2 entries (subclusters)', async () => {
      const path = makeImage('ext.qcow2', 'extended_l2=on,cluster_size=64k');
      const { header } = await openQcow2Layer(open(path), { inflate: nodeInflate });
      expect(header.extendedL2).toBe(true);
      await expectLikeQemu(path);
    });
    it('reads a backing chain through the resolver (three deep, extended L2 in the middle)', async () => {
      const base = makeImage('base.qcow2', 'compat=1.1');
      const mid = at('mid.qcow2');
      img('create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on', '-b', base, '-F', 'qcow2', mid, '8M');
      io(mid, 'write -P 0x66 2048 1k', 'write -z 0 512', 'write -P 0x67 1M 4k');
      const top = at('top.qcow2');
      img('create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', top, '10M');
      io(top, 'write -P 0x77 5M 100k', 'write -z 4k 8k', 'write -P 0x78 9M 64k');
      await expectLikeQemu(top, { backing: true });
      await expectDiskError(openQcow2(open(top), { inflate: nodeInflate }), 'UNSUPPORTED');
    });
    it('reads a compressed image', async () => {
      const src = makeImage('plain.qcow2', 'compat=1.1');
      const c = at('compressed.qcow2');
      img('convert', '-c', '-O', 'qcow2', src, c);
      const { layer } = await openQcow2Layer(open(c), { inflate: nodeInflate });
      await layer.close();
      await expectLikeQemu(c);
      expectSameBytes(qemuRaw(c), qemuRaw(src));
    });
    it('lists internal snapshots and opens one read-only', async () => {
      const path = makeImage('snap.qcow2', 'compat=1.1');
      img('snapshot', '-c', 'snap1', path);
      io(path, 'write -P 0x99 0 64k', 'write -z 5000k 4k', 'write -P 0x98 7M 8k');
      const { snapshots, layer } = await openQcow2Layer(open(path), { inflate: nodeInflate });
      await layer.close();
      expect(snapshots).toHaveLength(1);
      expect(snapshots[0]).toMatchObject({ id: '1', name: 'snap1', vmStateSize: 0, virtualSize: 8 * 2 ** 20 });
      expect(snapshots[0]!.dateSeconds).toBeGreaterThan(1.6e9);
      await expectLikeQemu(path);
      await expectLikeQemu(path, { snapshot: 'snap1' });
      await expectLikeQemu(path, { snapshot: '1' });
      await expectDiskError(openQcow2(open(path), { inflate: nodeInflate, snapshot: 'nope' }), 'INVALID_INPUT');
    });
    it('refuses encrypted images', async () => {
      const path = at('enc.qcow2');
      img('create', '-q', '-f', 'qcow2', '--object', 'secret,id=s0,data=pw', '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=200', path, '1M');
      const e = await expectDiskError(openQcow2(open(path), { inflate: nodeInflate }), 'UNSUPPORTED');
      expect(e.message).toContain('encrypted qcow2 images are not supported');
    });
    it('marks exactly the sectors it holds and leaves the rest of the buffer alone', async () => {
      const path = makeImage('marks.qcow2', 'compat=1.1');
      const { layer } = await openQcow2Layer(open(path), { inflate: nodeInflate });
      const buf = new Uint8Array(16 * 512).fill(0xee);
      const marker = new SectorBitmap(2040, 16); // 8 unallocated sectors, then 8 of the zero cluster at 1M
      await layer.read(2040, buf, marker);
      expect(marker.runs(true)).toEqual([[2048, 8]]);
      expect(buf.subarray(0, 8 * 512).every((b) => b === 0xee)).toBe(true);
      expect(buf.subarray(8 * 512).every((b) => b === 0)).toBe(true);
      expect(await layer.presence(2040, 16)).toEqual([{ lba: 2048, count: 8, state: 'zero' }]);
      await layer.close();
    });
  });

  describe('qcow2 header features', () => {
    const patched = (path: string, edit: (v: DataView) => void): ImageFile => {
      const bytes = new Uint8Array(readFileSync(path));
      edit(new DataView(bytes.buffer));
      return {
        name: path,
        writable: false,
        size: () => bytes.length,
        read: async (offset, into) => void into.set(bytes.subarray(offset, offset + into.length)),
        close: async () => undefined,
      };
    };
    it('rejects zstd compression and external data files as UNSUPPORTED', async () => {
      const z = at('zstd.qcow2');
      img('create', '-q', '-f', 'qcow2', '-o', 'compression_type=zstd', z, '1M');
      expect((await expectDiskError(openQcow2(open(z), { inflate: nodeInflate }), 'UNSUPPORTED')).message).toContain('zstd');
      const d = at('datafile.qcow2');
      img('create', '-q', '-f', 'qcow2', '-o', `data_file=${at('datafile.raw')}`, d, '1M');
      expect((await expectDiskError(openQcow2(open(d), { inflate: nodeInflate }), 'UNSUPPORTED')).message).toContain('external data file');
    });
    it('names unknown incompatible features, and reports the dirty bit', async () => {
      const path = makeImage('feat.qcow2', 'compat=1.1', '8M', ['write -P 5 0 4k']);
      const unknown = patched(path, (v) => v.setUint32(76, v.getUint32(76) | (1 << 9)));
      expect((await expectDiskError(openQcow2(unknown, { inflate: nodeInflate }), 'UNSUPPORTED')).message).toContain('bit 9');
      const high = patched(path, (v) => v.setUint32(72, 1));
      expect((await expectDiskError(openQcow2(high, { inflate: nodeInflate }), 'UNSUPPORTED')).message).toContain('bit 32');
      const dirty = patched(path, (v) => v.setUint32(76, v.getUint32(76) | 1));
      const image = await openQcow2Layer(dirty, { inflate: nodeInflate });
      expect(image.header.dirty).toBe(true);
      expect(image.header.featureNames.find((f) => f.type === 'incompatible' && f.bit === 0)?.name).toBe('dirty bit');
      const buf = new Uint8Array(512);
      await image.layer.read(0, buf, new SectorBitmap(0, 1));
      expect(buf.every((b) => b === 5)).toBe(true);
      const v4 = patched(path, (v) => v.setUint32(4, 4));
      await expectDiskError(openQcow2(v4, { inflate: nodeInflate }), 'UNSUPPORTED');
      const bad = patched(path, (v) => v.setUint32(20, 22));
      expect((await expectDiskError(openQcow2(bad, { inflate: nodeInflate }), 'CORRUPT_IMAGE')).field).toBe('cluster_bits');
    });
    it('recognises the backing format and the bitmaps extension', async () => {
      const base = makeImage('bm-base.qcow2', 'compat=1.1', '8M', ['write -P 5 0 4k']);
      const top = at('bm-top.qcow2');
      img('create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top, '8M');
      img('bitmap', '--add', top, 'b0');
      io(top, 'write -P 6 64k 4k');
      const image = await openQcow2Layer(open(top), { inflate: nodeInflate });
      expect(image.header.backingFile).toBe(base);
      expect(image.header.backingFormat).toBe('qcow2');
      expect(image.header.bitmaps?.count).toBe(1);
      await image.layer.close();
      await expectLikeQemu(top);
    });
  });

  describeDiskConformance({
    name: 'RamLayer over a qcow2 layer',
    sectorSizes: [512, 4096],
    make: async ({ sectorSize, sectors, readOnly }) => {
      const path = at(`conf-${sectorSize}-${sectors}-${Math.random().toString(36).slice(2)}.qcow2`);
      img('create', '-q', '-f', 'qcow2', path, String(sectors * sectorSize));
      const { layer } = await openQcow2Layer(open(path), { inflate: nodeInflate, sectorSize });
      const ram = new RamLayer({ sectors, sectorSize, readOnly });
      return openDisk(new LayeredDisk([{ layer: ram }, { layer }], { readOnly }));
    },
    maxSectors: (ss) => Math.floor(2 ** 40 / ss),
  });
}
