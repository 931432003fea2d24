/**
 * checkQcow2 against `qemu-img check --output=json`, on clean images of every kind and on
 * images damaged by editing a refcount (a leak, a corruption). Needs qemu-img (required on CI).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSyncFile } from '../../../node/node-sync-file.ts';
import { imageFileFromSync } from '../image-file.ts';
import { checkQcow2, type Qcow2CheckResult } from './check.ts';
import { qemuToolsAvailable } from '../../../node/qemu-tools.ts';

const hasQemu = qemuToolsAvailable();

const dir = hasQemu ? mkdtempSync(join(tmpdir(), 'qcow2-check-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const at = (name: string): string => join(dir, name);
const img = (...args: string[]): void => void execFileSync('qemu-img', args, { stdio: 'ignore' });
const io = (path: string, ...cmds: string[]): void => {
  execFileSync('qemu-io', ['-f', 'qcow2', ...cmds.flatMap((c) => ['-c', c]), path], { stdio: 'ignore' });
};

const FIELDS = ['check-errors', 'leaks', 'corruptions', 'image-end-offset', 'total-clusters', 'allocated-clusters', 'fragmented-clusters', 'compressed-clusters'] as const;

function qemuCheck(path: string): Record<string, number> {
  const run = spawnSync('qemu-img', ['check', '--output=json', path], { encoding: 'utf8' });
  const json = JSON.parse(run.stdout) as Record<string, number>;
  return Object.fromEntries(FIELDS.map((f) => [f, json[f] ?? 0]));
}

async function ours(path: string): Promise<Qcow2CheckResult> {
  const file = imageFileFromSync(new NodeSyncFile(path, { readOnly: true }), { name: path, writable: false });
  try {
    return await checkQcow2(file);
  } finally {
    await file.close();
  }
}

async function expectLikeQemu(path: string): Promise<Qcow2CheckResult> {
  const result = await ours(path);
  expect(Object.fromEntries(FIELDS.map((f) => [f, result[f]]))).toEqual(qemuCheck(path));
  return result;
}

/** Reads or writes the 16-bit refcount of host cluster `c` (default refcount_order 4, first refcount block). */
function refcountAt(path: string, c: number, value?: number): number {
  const fd = openSync(path, 'r+');
  try {
    const header = Buffer.alloc(104);
    readSync(fd, header, 0, 104, 0);
    const clusterBits = header.readUInt32BE(20);
    const rtOffset = Number(header.readBigUInt64BE(48));
    const entry = Buffer.alloc(8);
    readSync(fd, entry, 0, 8, rtOffset);
    const block = Number(entry.readBigUInt64BE(0));
    expect(c).toBeLessThan(2 ** (clusterBits - 1));
    const cell = Buffer.alloc(2);
    readSync(fd, cell, 0, 2, block + c * 2);
    if (value !== undefined) {
      const out = Buffer.alloc(2);
      out.writeUInt16BE(value);
      writeSync(fd, out, 0, 2, block + c * 2);
    }
    return cell.readUInt16BE(0);
  } finally {
    closeSync(fd);
  }
}

const writes = ['write -P 1 0 4k', 'write -P 2 3M 200k', 'write -z 5M 64k', 'write -P 3 7M 64k', 'write -P 4 128k 4k'];

function make(name: string, opts: string, cmds = writes): string {
  const path = at(name);
  img('create', '-q', '-f', 'qcow2', '-o', opts, path, '8M');
  io(path, ...cmds);
  return path;
}

if (hasQemu) {
  describe('checkQcow2 against qemu-img check', () => {
    it('agrees on clean v2, v3, extended-L2 and small-cluster images', async () => {
      for (const [name, opts] of [
        ['v2.qcow2', 'compat=0.10'],
        ['v3.qcow2', 'compat=1.1'],
        ['ext.qcow2', 'extended_l2=on'],
        ['c4k.qcow2', 'cluster_size=4k,refcount_bits=1'],
        ['c512.qcow2', 'cluster_size=512,refcount_bits=64'],
      ] as const) {
        const r = await expectLikeQemu(make(name, opts));
        expect(r.leaks + r.corruptions + r['check-errors'], name).toBe(0);
      }
    });
    it('agrees on snapshots (shared clusters) and on compressed images', async () => {
      const path = make('snap.qcow2', 'compat=1.1');
      img('snapshot', '-c', 'snap1', path);
      io(path, 'write -P 9 0 64k', 'write -P 8 7M 4k');
      img('snapshot', '-c', 'snap2', path);
      io(path, 'write -P 7 3M 4k');
      const r = await expectLikeQemu(path);
      expect(r['fragmented-clusters']).toBeGreaterThan(0);
      const c = at('compressed.qcow2');
      img('convert', '-c', '-O', 'qcow2', path, c);
      expect((await expectLikeQemu(c))['compressed-clusters']).toBeGreaterThan(0);
    });
    it('agrees on an image with a persistent dirty bitmap', async () => {
      const path = make('bitmap.qcow2', 'compat=1.1,cluster_size=4k', ['write -P 1 0 4k']);
      img('bitmap', '--add', path, 'b0');
      io(path, 'write -P 2 1M 64k', 'write -P 3 6M 4k');
      const r = await expectLikeQemu(path);
      expect(r.leaks + r.corruptions).toBe(0);
    });
    it('finds a leak made by bumping the refcount of a cluster in use', async () => {
      const path = make('leak.qcow2', 'compat=1.1');
      const before = await ours(path);
      // A refcount on a cluster past the end of the file is not compared (as in QEMU): no leak.
      refcountAt(path, before['image-end-offset'] / 65536 + 1, 1);
      refcountAt(path, 2, refcountAt(path, 2) + 1); // over-count a cluster in use, too
      const r = await expectLikeQemu(path);
      expect(r.leaks).toBe(1);
      expect(r.messages.some((m) => m.startsWith('Leaked cluster'))).toBe(true);
    });
    it('finds a corruption made by dropping the refcount of a data cluster', async () => {
      const path = make('corrupt.qcow2', 'compat=1.1');
      const r0 = await ours(path);
      const lastUsed = r0['image-end-offset'] / 65536 - 1;
      refcountAt(path, lastUsed, 0);
      const r = await expectLikeQemu(path);
      expect(r.corruptions).toBeGreaterThan(0);
    });
  });
}
