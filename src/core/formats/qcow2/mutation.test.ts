/**
 * Seeded mutation test: qemu-made images (v2, v3 with zero clusters, extended L2, compressed,
 * with a snapshot, with a backing file) have their header, extensions, L1/L2 tables, refcount
 * structures and snapshot table mutated; opening, reading (presence-guided, bounded) and
 * checking must then either succeed or reject with a DiskError: never another exception, hang
 * or giant allocation. Needs qemu-img to build the seeds (required on CI).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskError } from '../../disk/errors.ts';
import { nodeInflate } from '../../../node/node-inflate.ts';
import type { ImageFile } from '../image-file.ts';
import { SectorBitmap } from '../../layered/sector-bitmap.ts';
import { checkQcow2 } from './check.ts';
import { openQcow2Layer } from './open.ts';
import { qemuToolsAvailable } from '../../../node/qemu-tools.ts';

const hasQemu = qemuToolsAvailable();

function memoryImage(bytes: Uint8Array, name: string): ImageFile {
  return {
    name,
    writable: false,
    size: () => bytes.length,
    async read(offset, into, field = 'data') {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > bytes.length) {
        throw new DiskError('CORRUPT_IMAGE', `${name}: ${field} at ${offset} is outside the file`, { field });
      }
      into.set(bytes.subarray(offset, offset + into.length));
    },
    async close() {},
  };
}

/** mulberry32: small, seeded, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function seeds(): Array<{ name: string; bytes: Uint8Array; regions: Array<[number, number]> }> {
  const dir = mkdtempSync(join(tmpdir(), 'qcow2-mut-'));
  try {
    const img = (...a: string[]): void => void execFileSync('qemu-img', a, { stdio: 'ignore' });
    const io = (p: string, ...c: string[]): void => void execFileSync('qemu-io', ['-f', 'qcow2', ...c.flatMap((x) => ['-c', x]), p], { stdio: 'ignore' });
    const cmds = ['write -P 1 0 8k', 'write -P 2 100k 70k', 'write -z 1M 64k', 'write -P 3 1500k 4k'];
    const out: Array<{ name: string; path: string }> = [];
    const mk = (name: string, opts: string, extra: string[] = []): string => {
      const p = join(dir, name);
      img('create', '-q', '-f', 'qcow2', '-o', opts, ...extra, p, '2M');
      io(p, ...cmds);
      out.push({ name, path: p });
      return p;
    };
    mk('v2', 'compat=0.10,cluster_size=4k');
    const v3 = mk('v3', 'compat=1.1,cluster_size=4k,lazy_refcounts=on');
    mk('ext', 'extended_l2=on,cluster_size=16k');
    const c = join(dir, 'comp');
    img('convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4k', v3, c);
    out.push({ name: 'comp', path: c });
    const s = mk('snap', 'cluster_size=4k');
    img('snapshot', '-c', 'one', s);
    io(s, 'write -P 9 0 4k');
    mk('backed', 'cluster_size=4k,backing_fmt=qcow2', ['-b', v3]);
    return out.map(({ name, path }) => {
      const bytes = new Uint8Array(readFileSync(path));
      const v = new DataView(bytes.buffer);
      const cs = 2 ** v.getUint32(20);
      // Metadata lives in the first clusters and wherever the header points; data clusters are
      // mutated too (rarely), which must simply read back.
      const regions: Array<[number, number]> = [[0, Math.min(cs, 512)]];
      const add = (off: number, len: number): void => {
        if (off > 0 && off < bytes.length) regions.push([off, Math.min(len, bytes.length - off)]);
      };
      add(Number(v.getBigUint64(40)), v.getUint32(36) * 8);
      add(Number(v.getBigUint64(48)), 64);
      add(Number(v.getBigUint64(64)), 256);
      const l2 = Number(v.getBigUint64(Number(v.getBigUint64(40))) & 0x00fffffffffffe00n);
      add(l2, 512);
      const rtBlock = Number(v.getBigUint64(Number(v.getBigUint64(48))));
      add(rtBlock, 128);
      return { name, bytes, regions };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const INTERESTING = [0n, 1n, 0x200n, 0x1000n, 0xffffffffn, 0x7fffffffffffffffn, 0xffffffffffffffffn, 1n << 53n, 0x4000000000000000n, 0x8000000000000000n];

function mutate(base: Uint8Array, regions: Array<[number, number]>, r: () => number): Uint8Array {
  const bytes = base.slice();
  const v = new DataView(bytes.buffer);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const [start, len] = regions[Math.floor(r() * regions.length)]!;
    const at = start + Math.floor(r() * len);
    const kind = r();
    if (kind < 0.4) bytes[at] = Math.floor(r() * 256);
    else if (kind < 0.7) bytes[at] = bytes[at]! ^ (1 << Math.floor(r() * 8));
    else if (at + 8 <= bytes.length) {
      const aligned = at - (at % 8);
      const pick = r() < 0.5 ? INTERESTING[Math.floor(r() * INTERESTING.length)]! : BigInt(Math.floor(r() * (bytes.length + 8192)));
      v.setBigUint64(aligned, pick);
    }
  }
  return bytes;
}

async function exercise(bytes: Uint8Array, name: string): Promise<void> {
  const file = memoryImage(bytes, name);
  const { layer } = await openQcow2Layer(file, { inflate: nodeInflate, ...(name === 'snap' ? { snapshot: 'one' } : {}) });
  const sectors = Math.min(layer.sectorCount(), 4096);
  const runs = await layer.presence(0, layer.sectorCount());
  expect(runs.length).toBeLessThanOrEqual(layer.sectorCount());
  const buf = new Uint8Array(256 * 512);
  for (let lba = 0; lba < sectors; lba += 256) {
    const n = Math.min(256, sectors - lba);
    await layer.read(lba, buf.subarray(0, n * 512), new SectorBitmap(lba, n));
  }
  const result = await checkQcow2(file);
  expect(result['total-clusters']).toBeGreaterThanOrEqual(0);
}

if (hasQemu) {
  describe('qcow2 reader under mutation', () => {
    it('survives 1200 seeded mutations with typed errors or data', async () => {
      const all = seeds();
      // The pristine images open, read and check cleanly.
      for (const s of all) await exercise(s.bytes, s.name);
      let typed = 0;
      let fine = 0;
      for (let i = 0; i < 1200; i++) {
        const s = all[i % all.length]!;
        const r = rng(1000 + i);
        const bytes = mutate(s.bytes, s.regions, r);
        try {
          await exercise(bytes, s.name);
          fine++;
        } catch (e) {
          if (!(e instanceof DiskError)) throw new Error(`case ${i} (${s.name}): ${e instanceof Error ? e.stack : String(e)}`, { cause: e });
          typed++;
        }
      }
      expect(typed).toBeGreaterThan(50);
      expect(fine).toBeGreaterThan(50);
    });
  });
}
