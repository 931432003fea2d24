/**
 * DiskShell: a qemu-io-like command interpreter over one Disk, for the CLI (`disklab io IMG -c
 * '...'`) and the page's terminal. It does no I/O of its own: give it a Disk, feed it command
 * lines, and print the lines it returns (or streams through `onLine`).
 *
 * Promises
 * - Commands (see `help`): read, write, discard, flush, truncate, map, alloc, info, length,
 *   trace, help. Output matches qemu-io 7.x line for line where qemu-io has the same command,
 *   except the timing figures (taken from the injected Clock, so tests are deterministic), the
 *   text after "<op> failed: ", which is the DiskError's own message, and a few command-line
 *   errors that add a hint ('help' lists ...) or are the lab's own (negative numbers, quotes,
 *   options the Disk contract cannot honour). shell-golden.test.ts holds the comparison.
 * - Offsets and lengths are bytes, with qemu's size suffixes; unaligned requests are served by
 *   read-modify-write as byte-disk.ts describes; `trace on` shows the Disk calls they become.
 * - Every Disk call goes through `openDisk`. The occupancy query for `map`/`alloc` is taken from
 *   `options.map`, else from the disk given if it implements `DescribesMap` (disk-map.ts);
 *   note that a disk already wrapped by `openDisk` no longer exposes it, so pass the inner disk.
 * - Commands run one at a time, in the order `run` was called, even if calls overlap.
 * - Each line is tagged with a stream: 'err' for problems with the command line itself (unknown
 *   command, bad option, wrong argument count: what qemu-io prints on stderr), 'out' otherwise.
 *
 * Errors: `run` never rejects. Everything that goes wrong, including a Disk failure or a bug in a
 * command, becomes one output line and `ok: false`. Only the constructor throws: a DiskConfigError
 * from `openDisk` when the disk's metadata is invalid.
 */
import type { Disk } from '../disk/disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import { ByteDisk, type SectorCall } from './byte-disk.ts';
import { getopt, type CommandContext, type ShellCommand } from './command.ts';
import { describesMap, type DescribesMap } from './disk-map.ts';
import { allocCommand, helpCommand, infoCommand, lengthCommand, mapCommand, traceCommand } from './info-commands.ts';
import { discardCommand, flushCommand, readCommand, truncateCommand, writeCommand } from './io-commands.ts';
import { tokenize } from './tokenize.ts';

export type { DescribesMap, MapRun } from './disk-map.ts';
export type { SectorCall } from './byte-disk.ts';

/** qemu's BDRV_REQUEST_MAX_BYTES: the largest read or write qemu-io accepts in one command. */
export const QEMU_MAX_TRANSFER_BYTES = 2147483136;

export type ShellStream = 'out' | 'err';

export interface ShellLine {
  readonly text: string;
  readonly stream: ShellStream;
}

export interface ShellResult {
  /** False if the command failed: bad input, a Disk error, a pattern mismatch. */
  readonly ok: boolean;
  readonly lines: readonly ShellLine[];
}

export interface ShellOptions {
  /** For the timing lines; default the platform clock. */
  readonly clock?: Clock;
  /** Largest read/write length accepted; default qemu's 2147483136. A browser may want less. */
  readonly maxTransferBytes?: number;
  /** Occupancy source for map/alloc, overriding the disk's own `describeMap`. */
  readonly map?: DescribesMap;
  /** Called with each line as it is produced, before `run` resolves (for a live terminal). Errors it throws are ignored. */
  readonly onLine?: (line: ShellLine) => void;
}

const COMMANDS: readonly ShellCommand[] = [
  allocCommand,
  discardCommand,
  flushCommand,
  helpCommand,
  infoCommand,
  lengthCommand,
  mapCommand,
  readCommand,
  traceCommand,
  truncateCommand,
  writeCommand,
];

export class DiskShell {
  /** Command names, for completion and for the UI's help. */
  readonly commandNames: readonly string[] = COMMANDS.map((c) => c.name);
  readonly #io: ByteDisk;
  readonly #clock: Clock;
  readonly #maxTransfer: number;
  readonly #map: DescribesMap | undefined;
  readonly #onLine: ((line: ShellLine) => void) | undefined;
  #trace = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(disk: Disk, options: ShellOptions = {}) {
    this.#io = new ByteDisk(openDisk(disk));
    this.#clock = options.clock ?? systemClock;
    this.#maxTransfer = options.maxTransferBytes ?? QEMU_MAX_TRANSFER_BYTES;
    this.#map = options.map ?? (describesMap(disk) ? disk : undefined);
    this.#onLine = options.onLine;
  }

  /** Runs one command line. An empty line or a comment does nothing and succeeds. */
  run(line: string): Promise<ShellResult> {
    const result = this.#queue.then(() => this.#execute(line));
    this.#queue = result;
    return result;
  }

  /** Runs each line in turn, like `qemu-io -c ... -c ...`: all of them, even after a failure. */
  async runAll(lines: readonly string[]): Promise<ShellResult> {
    const out: ShellLine[] = [];
    let ok = true;
    for (const line of lines) {
      const r = await this.run(line);
      out.push(...r.lines);
      ok &&= r.ok;
    }
    return { ok, lines: out };
  }

  async #execute(line: string): Promise<ShellResult> {
    const lines: ShellLine[] = [];
    const emit = (stream: ShellStream) => (text: string) => {
      const l = { text, stream };
      lines.push(l);
      try {
        this.#onLine?.(l);
      } catch {
        // The sink's failure is the caller's to see in its own code; the lines are still returned.
      }
    };
    const out = emit('out');
    const err = emit('err');
    let name = '';
    try {
      const words = tokenize(line);
      if (!words.ok) {
        err(words.error);
        return { ok: false, lines };
      }
      if (words.value.length === 0) return { ok: true, lines };
      name = words.value[0]!;
      const cmd = COMMANDS.find((c) => c.name === name);
      if (cmd === undefined) {
        err(unknownCommand(name, this.commandNames));
        return { ok: false, lines };
      }
      const rest = words.value.slice(1);
      if (rest.length < cmd.argMin || (cmd.argMax >= 0 && rest.length > cmd.argMax)) {
        err(badCount(cmd, rest.length));
        return { ok: false, lines };
      }
      const parsed = getopt(rest, cmd.optstring);
      if (!parsed.ok) {
        err(`${cmd.name}: ${parsed.error}; 'help ${cmd.name}' lists the options`);
        return { ok: false, lines };
      }
      const ctx = this.#context(out, err);
      this.#io.onCall = this.#trace ? (call) => out(traceLine(call)) : undefined;
      try {
        const ok = await cmd.run(ctx, parsed.value);
        return { ok, lines };
      } finally {
        this.#io.onCall = undefined;
        this.#trace = ctx.trace;
      }
    } catch (e) {
      // A command is written never to throw; if one does, that is a bug, shown rather than lost.
      err(`${name || 'shell'}: internal error: ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false, lines };
    }
  }

  #context(out: (text: string) => void, err: (text: string) => void): CommandContext {
    return {
      io: this.#io,
      clock: this.#clock,
      maxTransferBytes: this.#maxTransfer,
      map: this.#map,
      commands: COMMANDS,
      trace: this.#trace,
      out,
      err,
    };
  }
}

/** qemu-io's argument-count messages. */
function badCount(cmd: ShellCommand, given: number): string {
  const expected =
    cmd.argMax < 0
      ? `at least ${cmd.argMin}`
      : cmd.argMin === cmd.argMax
        ? `${cmd.argMin}`
        : `between ${cmd.argMin} and ${cmd.argMax}`;
  return `bad argument count ${given} to ${cmd.name}, expected ${expected} arguments`;
}

function unknownCommand(name: string, names: readonly string[]): string {
  const close = names.filter((n) => editDistance(n, name) <= Math.min(2, Math.floor(n.length / 2)));
  const hint = close.length > 0 ? `; did you mean ${close.map((n) => `"${n}"`).join(' or ')}?` : '';
  return `command "${name}" not found${hint} ('help' lists the commands)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function traceLine(call: SectorCall): string {
  if (call.op === 'flush') return 'trace: flush';
  const fua = call.op === 'write' && call.fua ? ' fua' : '';
  return `trace: ${call.op} lba=${call.lba} count=${call.count}${fua}`;
}
