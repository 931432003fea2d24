/**
 * Oracle tests: images partitioned by sfdisk / sgdisk (util-linux, gdisk), read back by
 * readPartitionTable and compared with `sfdisk --json`. Registered only where the tools exist;
 * on CI (process.env.CI === 'true') a missing sfdisk fails loudly instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPartitionTable } from './partition-table.ts';
import type { PartitionTable } from './partition-table.ts';
import { diskFromImage } from './table-builder.ts';
import { formatPartitionTable } from './format-table.ts';

function which(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool} || test -x /sbin/${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
function tool(name: string): string {
  for (const dir of ['/usr/sbin', '/sbin']) {
    try {
      execFileSync('test', ['-x', `${dir}/${name}`]);
      return `${dir}/${name}`;
    } catch {
      // try the next directory
    }
  }
  return name;
}

const HAVE_SFDISK = which('sfdisk');
const HAVE_SGDISK = which('sgdisk');

if (!HAVE_SFDISK && process.env.CI === 'true') {
  describe('partition oracle', () => {
    it('needs sfdisk on CI', () => {
      throw new Error('sfdisk (util-linux / fdisk package) is missing on CI: the partition oracle tests cannot run');
    });
  });
}

interface SfdiskPart {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
  bootable?: boolean;
  attrs?: string;
}
interface SfdiskJson {
  partitiontable: { label: string; id: string; firstlba?: number; lastlba?: number; sectorsize: number; partitions?: SfdiskPart[] };
}

const dir = HAVE_SFDISK ? mkdtempSync(join(tmpdir(), 'partitions-oracle-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function compare(file: string): Promise<PartitionTable> {
  const oracle = JSON.parse(execFileSync(tool('sfdisk'), ['--json', file], { encoding: 'utf8' })) as SfdiskJson;
  const pt = oracle.partitiontable;
  const t = await readPartitionTable(await diskFromImage(new Uint8Array(readFileSync(file)), 512));
  expect(t.warnings).toEqual([]);
  expect(t.scheme).toBe(pt.label === 'dos' ? 'mbr' : pt.label);
  if (t.scheme === 'mbr') expect(`0x${(t.diskSignature ?? -1).toString(16).padStart(8, '0')}`).toBe(pt.id);
  else {
    expect(t.diskGuid).toBe(pt.id);
    expect(t.gpt?.lastUsableLba).toBe(pt.lastlba);
  }
  const expected = (pt.partitions ?? []).map((p) => ({
    index: Number(p.node.slice(file.length)),
    start: p.start,
    size: p.size,
    type: p.type.toUpperCase(),
    name: p.name ?? (t.scheme === 'gpt' ? '' : undefined),
    uuid: p.uuid,
    bootable: p.bootable === true || (p.attrs ?? '').includes('LegacyBIOSBootable'),
  }));
  const actual = t.partitions.map((p) => ({
    index: p.index,
    start: p.startLba,
    size: p.sectors,
    type: p.type.kind === 'mbr' ? p.type.code.toString(16).toUpperCase() : p.type.guid,
    name: p.name,
    uuid: p.partitionGuid,
    bootable: p.bootable,
  }));
  expect(actual).toEqual(expected);
  return t;
}

function sfdisk(name: string, megabytes: number, script: string): string {
  const file = join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, megabytes * 1024 * 1024);
  execFileSync(tool('sfdisk'), ['-q', file], { input: script });
  return file;
}

if (HAVE_SFDISK) {
  describe('partition oracle (sfdisk --json)', () => {
    it('matches a DOS table with primaries and a logical chain', async () => {
      const file = sfdisk('dos.img', 64, [
        'label: dos',
        'label-id: 0x1234abcd',
        'start=2048, size=8192, type=c, bootable',
        'size=4096, type=83',
        'type=5',
        'size=2048, type=82',
        'size=6144, type=8e',
        'size=1024, type=7',
        'type=83',
      ].join('\n'));
      const t = await compare(file);
      expect(t.partitions.map((p) => p.index)).toEqual([1, 2, 3, 5, 6, 7, 8]);
      expect(formatPartitionTable(t)).toContain('Disk identifier: 0x1234abcd');
    });

    it('matches a GPT with names, types and attributes', async () => {
      const file = sfdisk('gpt.img', 64, [
        'label: gpt',
        'label-id: 01234567-89AB-CDEF-0123-456789ABCDEF',
        'start=2048, size=4096, type=U, name="EFI system", attrs=LegacyBIOSBootable',
        'size=2048, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="Microsoft reserved partition"',
        'size=8192, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Données ü"',
        'size=4096, type=S, name="swap"',
        'size=4096, type=E6D6D379-F507-44C2-A23C-238F2A3DF928',
        'type=L, name="root"',
      ].join('\n'));
      const t = await compare(file);
      expect(t.partitions.map((p) => p.type.name)).toEqual([
        'EFI System', 'Microsoft reserved', 'Microsoft basic data', 'Linux swap', 'Linux LVM', 'Linux filesystem',
      ]);
      expect(formatPartitionTable(t)).toMatch(/^3\s+8192\s+16383\s+8192\s+4M\s+Données ü\s+Microsoft basic data$/m);
    });

    it('matches a GPT read through its backup after the primary is damaged', async () => {
      const file = sfdisk('gpt-damaged.img', 8, 'label: gpt\nsize=2048, type=L, name="a"\ntype=S, name="b"\n');
      const good = await compare(file);
      const bytes = new Uint8Array(readFileSync(file));
      bytes.fill(0xaa, 512, 1024);
      const t = await readPartitionTable(await diskFromImage(bytes, 512));
      expect(t.gpt?.header).toBe('backup');
      expect(t.partitions).toEqual(good.partitions);
    });

    if (HAVE_SGDISK) {
      it('matches a GPT written by sgdisk, with entries in non-consecutive slots', async () => {
        const file = join(dir, 'sgdisk.img');
        writeFileSync(file, '');
        truncateSync(file, 32 * 1024 * 1024);
        execFileSync(tool('sgdisk'), [
          '-o',
          '-n', '1:2048:+4M', '-t', '1:ef00', '-c', '1:ESP',
          '-n', '4:0:+8M', '-t', '4:8300', '-c', '4:linux',
          '-n', '2:0:0', '-t', '2:0700', '-c', '2:data',
          file,
        ], { stdio: 'ignore' });
        const t = await compare(file);
        expect(t.partitions.map((p) => p.index)).toEqual([1, 2, 4]);
      });
    }
  });
}
