/**
 * What a shell command is, what it may use, and the helpers every command shares: getopt-style
 * option parsing, argument parsing that prints qemu-io's messages, and disk-failure reporting.
 *
 * A command never throws: it prints what went wrong as one line and resolves `false`; `true`
 * means it did what was asked (a pattern mismatch is a failure, as in qemu-io's exit status).
 */
import type { Clock } from '../ports/clock.ts';
import type { ByteDisk } from './byte-disk.ts';
import type { DescribesMap } from './disk-map.ts';
import { parsePatternByte, parseSizeArg, type Parsed } from './qemu-format.ts';

export interface CommandContext {
  readonly io: ByteDisk;
  readonly clock: Clock;
  readonly maxTransferBytes: number;
  readonly map: DescribesMap | undefined;
  readonly commands: readonly ShellCommand[];
  /** Whether Disk calls are printed as they happen (the `trace` command). */
  trace: boolean;
  /** A line of normal output (qemu-io's stdout). */
  out(text: string): void;
  /** A line about the command line itself (qemu-io's stderr: bad options, unknown commands). */
  err(text: string): void;
}

export interface ParsedArgs {
  /** Options given without an argument. */
  readonly flags: ReadonlySet<string>;
  /** Options given with an argument (the last one wins, as with getopt). */
  readonly values: ReadonlyMap<string, string>;
  /** Positional arguments, in order. */
  readonly args: readonly string[];
}

export interface ShellCommand {
  readonly name: string;
  /** Options and arguments, as `help` shows them: "[-Cqv] [-P pattern] off len". */
  readonly synopsis: string;
  readonly summary: string;
  /** Extended help, shown by `help <name>`. */
  readonly help: readonly string[];
  /** Word counts (options included) as qemu-io checks them first; argMax -1 means no limit. */
  readonly argMin: number;
  readonly argMax: number;
  /** getopt option string: letters, each followed by ':' when it takes an argument. */
  readonly optstring: string;
  run(ctx: CommandContext, args: ParsedArgs): Promise<boolean>;
}

/**
 * GNU-getopt-like parsing: options may come anywhere (they are permuted out of the positional
 * arguments), may be clustered (-qv) and take their argument attached (-P0xab) or as the next
 * word; `--` ends options. A word like "-5" is a positional argument, not an option, so that a
 * negative number reaches the number parser and is reported as negative.
 */
export function getopt(words: readonly string[], optstring: string): Parsed<ParsedArgs> {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      args.push(...words.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-' || /^-\d/.test(word)) {
      args.push(word);
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const letter = word[j]!;
      const at = optstring.indexOf(letter);
      if (letter === ':' || at < 0) return { ok: false, error: `invalid option -- '${letter}'` };
      if (optstring[at + 1] !== ':') {
        flags.add(letter);
        continue;
      }
      let value = word.slice(j + 1);
      if (value === '') {
        const next = words[i + 1];
        if (next === undefined) return { ok: false, error: `option requires an argument -- '${letter}'` };
        value = next;
        i++;
      }
      values.set(letter, value);
      break;
    }
  }
  return { ok: true, value: { flags, values, args } };
}

/** The one-line usage reminder printed for a malformed command line. */
export function usage(ctx: CommandContext, cmd: ShellCommand, problem: string): false {
  ctx.err(`${cmd.name}: ${problem}; usage: ${cmd.name} ${cmd.synopsis}`.replace(/ {2,}/g, ' '));
  return false;
}

/** Parses an offset or size argument, printing qemu-io's message when it is not one. */
export function sizeArg(ctx: CommandContext, text: string): number | undefined {
  const parsed = parseSizeArg(text);
  if (parsed.ok) return parsed.value;
  ctx.out(parsed.error);
  return undefined;
}

/** A transfer length: a size no larger than the largest single request the shell makes. */
export function lengthArg(ctx: CommandContext, text: string): number | undefined {
  const n = sizeArg(ctx, text);
  if (n === undefined) return undefined;
  if (n > ctx.maxTransferBytes) {
    ctx.out(`length cannot exceed ${ctx.maxTransferBytes}, given ${text}`);
    return undefined;
  }
  return n;
}

export function patternArg(ctx: CommandContext, text: string): number | undefined {
  const parsed = parsePatternByte(text);
  if (parsed.ok) return parsed.value;
  ctx.out(parsed.error);
  return undefined;
}

/** qemu-io's "<op> failed: <reason>", with the DiskError's own message as the reason. */
export function failed(ctx: CommandContext, op: string, e: unknown): false {
  ctx.out(`${op} failed: ${e instanceof Error ? e.message : String(e)}`);
  return false;
}

/** For qemu-io options that have no meaning for the lab's disks. */
export function unsupported(ctx: CommandContext, cmd: ShellCommand, letter: string, why: string): false {
  ctx.err(`${cmd.name}: -${letter} is not supported here: ${why}`);
  return false;
}

/** Runs `op`, returning how long it took by the shell's clock, or the error it failed with. */
export async function timed<T>(ctx: CommandContext, op: () => Promise<T>): Promise<{ ok: true; value: T; ns: number } | { ok: false; error: unknown }> {
  const start = ctx.clock.nowNs();
  try {
    const value = await op();
    return { ok: true, value, ns: ctx.clock.nowNs() - start };
  } catch (error) {
    return { ok: false, error };
  }
}
