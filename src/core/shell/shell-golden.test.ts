/**
 * Golden comparison with real qemu-io: the same command sequence on a 1 MiB raw file (qemu-io)
 * and on a 1 MiB RamDisk (the shell) must print the same lines, stdout against 'out' and stderr
 * against 'err', once timing figures and the reason after "<op> failed: " are masked (the lab
 * prints the DiskError's message where qemu prints strerror).
 *
 * When qemu-io is installed the expected lines come from running it now; otherwise from the
 * transcript recorded in testdata/ (refresh it with UPDATE_QEMU_GOLDEN=1 where qemu-io exists).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskShell } from './shell.ts';
import { StepClock } from './test-support.ts';

const FIXTURE = new URL('./testdata/qemu-io-golden.json', import.meta.url);
const SIZE = 1 << 20;

// qemu-io splits -c strings on whitespace only, so no quoting here.
const COMMANDS = [
  'write -P 0xab 0 4096',
  'read -v 0 16',
  'read -v 100 40',
  'read -P 0xab 0 4096',
  'read -P 0xac 0 4096',
  'read -P 0xab 4000 200',
  'read -P 0xab -s 10 -l 20 4000 200',
  'read -P 0 -s 96 4000 200',
  'read -P 1 -s 5 -l 10 0 8',
  'write -P 0x41 5000 100',
  'read -v 4990 120',
  'write -z 4090 20',
  'read -v 4080 40',
  'write -z -u 8192 8192',
  'read -P 0 8192 8192',
  'write -f -P 0x5a 1000 2000',
  'read -P 0x5a 1000 2000',
  'read -v 998 4',
  'read -C 0 1536',
  'write -C -P 0x33 2k 1k',
  'write -q 0 1',
  'read -q -v 0 16',
  'read -C -v 0 16',
  'discard 64k 64k',
  'read -P 0 64k 64k',
  'discard -C 0 512',
  'discard -q 512 512',
  'read -P 0 0 1k',
  'write 0x10 0x10',
  'read -v 0x10 0x10',
  'read 010 1',
  'read 0 1.5k',
  'read 0 0.5k',
  'read 1k 1b',
  'read 0 1K',
  'read 0 1m',
  'read -v 0 0',
  'read 0 1x',
  'read 0 1.5',
  'read 0 .5k',
  'read 0 3G',
  'write 0 3G',
  'write -z -n 0 3G',
  'discard 0 3G',
  'read 0 2147483137',
  'read 0 99999999999999999999',
  'read 0 8E',
  'read -P 0x1234 0 1',
  'read -P abc 0 1',
  'read -P 256 0 1',
  'write -z -P 1 0 1',
  'write -u 0 1',
  'write -n 0 1',
  'read 1048000 1000',
  'write 1048576 1',
  'discard 1048000 1000',
  'read 1048576 0',
  'read 1048577 0',
  'write -P 0x77 1048575 1',
  'read -v 1048560 16',
  'length',
  'map',
  'alloc 0',
  'alloc 0 1k',
  'alloc 1048000 1000',
  'alloc 1M',
  'flush',
  'read 0',
  'write 0',
  'discard 0',
  'flush 1',
  'length 1',
  'map 1',
];

interface Transcript {
  readonly qemuVersion: string;
  readonly commands: readonly string[];
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
}

function normalize(lines: readonly string[]): string[] {
  return lines.map((l) =>
    l
      .replace(/^(.* ops; ).*$/, '$1<time>')
      .replace(/^(\d+,\d+),[^,]+,[^,]+,[^,]+$/, '$1,<time>')
      .replace(/^(\w+ failed: ).*$/, '$1<reason>'),
  );
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function qemuVersion(): string | undefined {
  const r = spawnSync('qemu-io', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '') : undefined;
}

function runQemuIo(version: string): Transcript {
  const dir = mkdtempSync(join(tmpdir(), 'disklab-golden-'));
  try {
    const image = join(dir, 'disk.raw');
    closeSync(openSync(image, 'w'));
    truncateSync(image, SIZE);
    const args = ['-f', 'raw', ...COMMANDS.flatMap((c) => ['-c', c]), image];
    const r = spawnSync('qemu-io', args, { encoding: 'utf8' });
    return {
      qemuVersion: version,
      commands: COMMANDS,
      stdout: normalize(splitLines(r.stdout)),
      // qemu-io prefixes its own warnings with "qemu-io: "; the command errors have no prefix.
      stderr: normalize(splitLines(r.stderr).filter((l) => !l.startsWith('qemu-io: '))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function expected(): Transcript {
  const version = qemuVersion();
  if (version === undefined) return JSON.parse(readFileSync(FIXTURE, 'utf8')) as Transcript;
  const live = runQemuIo(version);
  if (process.env.UPDATE_QEMU_GOLDEN) writeFileSync(FIXTURE, `${JSON.stringify(live, null, 2)}\n`);
  return live;
}

describe('DiskShell output against qemu-io', () => {
  it('prints what qemu-io prints for the same commands on a raw image of the same size', async () => {
    const want = expected();
    expect(want.commands, 'the recorded transcript is for this command list (refresh it)').toEqual(COMMANDS);
    const sh = new DiskShell(new RamDisk({ sectors: SIZE / 512 }), { clock: new StepClock(1_000) });
    const got = await sh.runAll(COMMANDS);
    expect(normalize(got.lines.filter((l) => l.stream === 'out').map((l) => l.text))).toEqual(want.stdout);
    expect(normalize(got.lines.filter((l) => l.stream === 'err').map((l) => l.text))).toEqual(want.stderr);
  });

  it('has a recorded transcript that matches the live qemu-io when both exist', () => {
    const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Transcript;
    expect(recorded.commands).toEqual(COMMANDS);
    expect(recorded.stdout.length).toBeGreaterThan(100);
    const version = qemuVersion();
    if (version !== undefined && version === recorded.qemuVersion) {
      const live = runQemuIo(version);
      expect(recorded.stdout).toEqual(live.stdout);
      expect(recorded.stderr).toEqual(live.stderr);
    }
  });
});
