/**
 * Running the CLI and external tools from tests.
 *
 * `runDisklab(...argv)` runs `disklab` in process (program.ts `runCli`) with captured output and
 * resolves to its exit status and what it wrote; it never throws for a failing command, the
 * status says so. `mustRun(cmd, ...args)` runs an external program (qemu-img, qemu-io ...) and
 * fails the current test, showing the command and its output, unless it exits 0; it returns its
 * stdout.
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { captureIo } from '../io.ts';
import { runCli } from '../program.ts';

export interface CliResult {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

export async function runDisklab(...argv: string[]): Promise<CliResult> {
  const io = captureIo();
  const status = await runCli(argv, io);
  return { status, out: io.out, err: io.err };
}

export function mustRun(cmd: string, ...args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}
