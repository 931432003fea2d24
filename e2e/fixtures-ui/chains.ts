/**
 * Three-file image chains the chain specs drop on the page, made at test time:
 * - qcow2: base.qcow2 <- mid.qcow2 <- top.qcow2, by qemu-img (create -b) with data written by
 *   qemu-io; the expected guest bytes are qemu-img's own raw conversion of top.qcow2, and what
 *   each file holds comes from `qemu-img map --output=json` (depth-0 data extents): an
 *   independent implementation of the format on both counts.
 * - VHD: base.vhd (dynamic) <- mid.vhd <- top.vhd, made with `disklab create -f vhd -b` and
 *   written with `disklab io`; the expected bytes are computed here from the writes made.
 * Each file records its parent by a relative name, as a chain copied between machines does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SECTOR } from './images.ts';

export interface ChainFile {
  readonly name: string;
  readonly data: Buffer;
  /** Sectors this file holds (allocated clusters / sectors written), for its occupancy row. */
  readonly sectorsHeld: number;
}

export interface Chain {
  /** Child first. */
  readonly files: readonly [ChainFile, ChainFile, ChainFile];
  /** What the guest reads from the whole chain. */
  readonly raw: Buffer;
  /** Sectors written into each file, child first: [lba, count, byte] (for pattern checks). */
  readonly writes: readonly (readonly [number, number, number])[][];
}

export const CHAIN_SECTORS = 8192; // 4 MiB

function inTempDir<T>(fn: (dir: string, run: (cmd: string, args: readonly string[]) => string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'disklab-e2e-chain-'));
  try {
    return fn(dir, (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The base's raw data: the first half patterned, the second half zero (so a converted base is sparse). */
function baseRaw(): Buffer {
  const raw = Buffer.alloc(CHAIN_SECTORS * SECTOR);
  for (let n = 0; n < CHAIN_SECTORS / 2; n++) {
    raw.fill((n * 7 + 3) & 0xff, n * SECTOR, (n + 1) * SECTOR);
    raw.write(`LBA ${n}`, n * SECTOR, 'ascii');
  }
  return raw;
}

const MID_WRITES: [number, number, number][] = [[256, 128, 0x11], [6144, 8, 0x12]];
const TOP_WRITES: [number, number, number][] = [[272, 16, 0x21], [7000, 24, 0x22]];

function qemuIoArgs(writes: readonly (readonly [number, number, number])[]): string[] {
  return writes.flatMap(([lba, count, byte]) => ['-c', `write -P 0x${byte.toString(16)} ${lba * SECTOR} ${count * SECTOR}`]);
}

export function qcow2Chain(): Chain {
  return inTempDir((dir, run) => {
    writeFileSync(path.join(dir, 'base.raw'), baseRaw());
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', 'base.raw', 'base.qcow2']);
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'mid.qcow2']);
    run('qemu-io', ['-f', 'qcow2', ...qemuIoArgs(MID_WRITES), 'mid.qcow2']);
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', 'top.qcow2']);
    run('qemu-io', ['-f', 'qcow2', ...qemuIoArgs(TOP_WRITES), 'top.qcow2']);
    run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', 'top.qcow2', 'top.raw']);
    const file = (name: string): ChainFile => {
      // What this file itself holds: qemu-img map's extents at depth 0 (not from a backing file).
      const map = JSON.parse(run('qemu-img', ['map', '--output=json', '-f', 'qcow2', name])) as { start: number; length: number; depth: number; data: boolean }[];
      const own = map.filter((e) => e.depth === 0 && e.data).reduce((n, e) => n + e.length, 0);
      return { name, data: readFileSync(path.join(dir, name)), sectorsHeld: own / SECTOR };
    };
    return { files: [file('top.qcow2'), file('mid.qcow2'), file('base.qcow2')], raw: readFileSync(path.join(dir, 'top.raw')), writes: [TOP_WRITES, MID_WRITES, []] };
  });
}

export function vhdChain(): Chain {
  const disklab = path.resolve('bin/disklab.mjs');
  return inTempDir((dir, run) => {
    const raw = baseRaw();
    run('node', [disklab, 'create', '-f', 'vhd', '-o', 'subformat=dynamic', 'base.vhd', String(raw.length)]);
    // The base's data, written in 1 MiB pieces (a pattern per sector would be thousands of commands).
    writeFileSync(path.join(dir, 'base.raw'), raw);
    run('node', [disklab, 'convert', '-f', 'raw', '-O', 'vhd', '-o', 'subformat=dynamic', '--force', 'base.raw', 'base.vhd']);
    run('node', [disklab, 'create', '-f', 'vhd', '-b', 'base.vhd', 'mid.vhd']);
    run('node', [disklab, 'io', 'mid.vhd', ...qemuIoArgs(MID_WRITES)]);
    run('node', [disklab, 'create', '-f', 'vhd', '-b', 'mid.vhd', 'top.vhd']);
    run('node', [disklab, 'io', 'top.vhd', ...qemuIoArgs(TOP_WRITES)]);
    const expected = Buffer.from(raw);
    for (const [lba, count, byte] of [...MID_WRITES, ...TOP_WRITES]) expected.fill(byte, lba * SECTOR, (lba + count) * SECTOR);
    const held = (writes: readonly (readonly [number, number, number])[]) => writes.reduce((n, [, count]) => n + count, 0);
    const file = (name: string, sectorsHeld: number): ChainFile => ({ name, data: readFileSync(path.join(dir, name)), sectorsHeld });
    // The dynamic base holds the blocks qemu-img's conversion allocated: the patterned first half
    // (one 2 MiB block); the zero second half has no block, so its row shows half the disk held.
    return { files: [file('top.vhd', held(TOP_WRITES)), file('mid.vhd', held(MID_WRITES)), file('base.vhd', CHAIN_SECTORS / 2)], raw: expected, writes: [TOP_WRITES, MID_WRITES, []] };
  });
}
