/**
 * The I/O commands: read, write, discard, flush, truncate. Options, messages and output follow
 * qemu-io 7.x (see qemu-format.ts); offsets and lengths are bytes and need not be
 * sector-aligned (byte-disk.ts says what an unaligned request becomes).
 *
 * Order of checks, as in qemu-io: options, then option combinations, then numbers, then the I/O.
 * Disk failures print "<op> failed: <DiskError message>".
 */
import {
  failed,
  lengthArg,
  patternArg,
  sizeArg,
  timed,
  unsupported,
  usage,
  type CommandContext,
  type ParsedArgs,
  type ShellCommand,
} from './command.ts';
import { hexdumpLines, reportLines } from './qemu-format.ts';

const NO_VM_STATE = "the lab's disks have no VM state";

function report(ctx: CommandContext, a: ParsedArgs, op: string, offset: number, length: number, ns: number): void {
  if (a.flags.has('q')) return;
  for (const line of reportLines(op, offset, length, length, ns, a.flags.has('C'))) ctx.out(line);
}

export const readCommand: ShellCommand = {
  name: 'read',
  synopsis: '[-Cqv] [-P pattern [-s off] [-l len]] off len',
  summary: 'reads a number of bytes at a specified offset',
  help: [
    " 'read -v 512 1k' - dumps 1 kilobyte read from 512 bytes into the disk",
    '',
    ' Reads len bytes at byte offset off. Neither needs to be sector-aligned: the covering',
    ' whole sectors are read and the bytes asked for are returned (see trace).',
    ' Sizes take a suffix: k, M, G, T, P, E (powers of 1024); 0x introduces hex.',
    ' -C, -- report statistics in a machine parsable format',
    ' -l, -- length for pattern verification (only with -P)',
    ' -p, -- ignored for backwards compatibility',
    ' -P, -- verify that every byte read equals this pattern byte',
    ' -q, -- quiet mode, do not show I/O statistics',
    ' -s, -- start offset for pattern verification (only with -P)',
    ' -v, -- dump buffer to standard output',
  ],
  argMin: 2,
  argMax: -1,
  optstring: 'abCl:pP:qs:v',
  async run(ctx, a) {
    if (a.flags.has('b')) return unsupported(ctx, this, 'b', NO_VM_STATE);
    if (a.flags.has('a')) return unsupported(ctx, this, 'a', 'there is no asynchronous I/O in the shell');
    const patternText = a.values.get('P');
    const pattern = patternText === undefined ? undefined : patternArg(ctx, patternText);
    if (patternText !== undefined && pattern === undefined) return false;
    const sText = a.values.get('s');
    const lText = a.values.get('l');
    if (pattern === undefined && (sText !== undefined || lText !== undefined)) return usage(ctx, this, '-s and -l need -P');
    if (a.args.length !== 2) return usage(ctx, this, `expected 2 arguments, got ${a.args.length}`);
    const patternOffset = sText === undefined ? 0 : sizeArg(ctx, sText);
    const patternLength = lText === undefined ? undefined : sizeArg(ctx, lText);
    if (patternOffset === undefined || (lText !== undefined && patternLength === undefined)) return false;
    const offset = sizeArg(ctx, a.args[0]!);
    if (offset === undefined) return false;
    const length = lengthArg(ctx, a.args[1]!);
    if (length === undefined) return false;
    const checkLength = patternLength ?? length - patternOffset;
    if (pattern !== undefined && (checkLength < 0 || patternOffset + checkLength > length)) {
      ctx.out('pattern verification range exceeds end of read data');
      return false;
    }
    const r = await timed(ctx, () => ctx.io.read(offset, length));
    if (!r.ok) return failed(ctx, 'read', r.error);
    let ok = true;
    if (pattern !== undefined && r.value.subarray(patternOffset, patternOffset + checkLength).some((b) => b !== pattern)) {
      ctx.out(`Pattern verification failed at offset ${offset + patternOffset}, ${checkLength} bytes`);
      ok = false;
    }
    if (a.flags.has('q')) return ok;
    if (a.flags.has('v')) for (const line of hexdumpLines(r.value, offset)) ctx.out(line);
    report(ctx, a, 'read', offset, length, r.ns);
    return ok;
  },
};

export const writeCommand: ShellCommand = {
  name: 'write',
  synopsis: '[-Cfnquz] [-P pattern] off len',
  summary: 'writes a number of bytes at a specified offset',
  help: [
    " 'write 512 1k' - writes 1 kilobyte at 512 bytes into the disk",
    '',
    ' Writes len bytes of a pattern (default 0xcd) at byte offset off. A write that does not',
    ' start and end on sector boundaries is a read-modify-write of the partial sectors at its',
    ' ends, then one write of the covering sectors (see trace).',
    ' -C, -- report statistics in a machine parsable format',
    ' -f, -- use Force Unit Access semantics',
    ' -n, -- with -z, refuse unless the zeroes can be unmapped (no slow fallback); no length limit',
    ' -p, -- ignored for backwards compatibility',
    ' -P, -- use a different pattern byte to fill the data',
    ' -q, -- quiet mode, do not show I/O statistics',
    ' -u, -- with -z, allow unmapping whole sectors when the disk reads them back as zeroes',
    ' -z, -- write zeroes',
  ],
  argMin: 2,
  argMax: -1,
  optstring: 'bcCfnpP:qs:uz',
  async run(ctx, a) {
    if (a.flags.has('b')) return unsupported(ctx, this, 'b', NO_VM_STATE);
    if (a.flags.has('c')) return unsupported(ctx, this, 'c', 'the Disk contract has no compressed writes');
    if (a.values.has('s')) return unsupported(ctx, this, 's', 'the shell reads no files');
    const patternText = a.values.get('P');
    const pattern = patternText === undefined ? 0xcd : patternArg(ctx, patternText);
    if (pattern === undefined) return false;
    if (a.args.length !== 2) return usage(ctx, this, `expected 2 arguments, got ${a.args.length}`);
    const zero = a.flags.has('z');
    if (zero && patternText !== undefined) {
      ctx.out('Only one of -z, -P, and -s can be specified at the same time');
      return false;
    }
    if (a.flags.has('u') && !zero) {
      ctx.out('-u requires -z to be specified');
      return false;
    }
    if (a.flags.has('n') && !zero) {
      ctx.out('-n requires -z to be specified');
      return false;
    }
    const offset = sizeArg(ctx, a.args[0]!);
    if (offset === undefined) return false;
    const length = sizeArg(ctx, a.args[1]!);
    if (length === undefined) return false;
    // As in qemu-io: only a zero write that may not fall back (so allocates no buffer) may be longer.
    if (length > ctx.maxTransferBytes && !(zero && a.flags.has('n'))) {
      ctx.out(`length cannot exceed ${ctx.maxTransferBytes} without -n, given ${a.args[1]}`);
      return false;
    }
    const fua = a.flags.has('f');
    const r = await timed(ctx, () =>
      zero
        ? ctx.io.writeZeroes(offset, length, { fua, mayUnmap: a.flags.has('u'), noFallback: a.flags.has('n') })
        : ctx.io.write(offset, new Uint8Array(length).fill(pattern), fua),
    );
    if (!r.ok) return failed(ctx, 'write', r.error);
    report(ctx, a, 'wrote', offset, length, r.ns);
    return true;
  },
};

export const discardCommand: ShellCommand = {
  name: 'discard',
  synopsis: '[-Cq] off len',
  summary: 'discards a number of bytes at a specified offset',
  help: [
    " 'discard 512 1k' - discards 1 kilobyte from 512 bytes into the disk",
    '',
    ' Unmaps the whole sectors inside the range; partial sectors at its ends are left as',
    ' they are (discard is advisory). What unmapped sectors then read as is the disk\'s',
    ' unmap behavior (see info).',
    ' -C, -- report statistics in a machine parsable format',
    ' -q, -- quiet mode, do not show I/O statistics',
  ],
  argMin: 2,
  argMax: -1,
  optstring: 'Cq',
  async run(ctx, a) {
    if (a.args.length !== 2) return usage(ctx, this, `expected 2 arguments, got ${a.args.length}`);
    const offset = sizeArg(ctx, a.args[0]!);
    if (offset === undefined) return false;
    const length = lengthArg(ctx, a.args[1]!);
    if (length === undefined) return false;
    const r = await timed(ctx, () => ctx.io.discard(offset, length));
    if (!r.ok) return failed(ctx, 'discard', r.error);
    report(ctx, a, 'discard', offset, length, r.ns);
    return true;
  },
};

export const flushCommand: ShellCommand = {
  name: 'flush',
  synopsis: '',
  summary: 'flush all in-core disk state to stable storage',
  help: [' Makes every write that completed before it durable. Prints nothing on success.'],
  argMin: 0,
  argMax: 0,
  optstring: '',
  async run(ctx) {
    const r = await timed(ctx, () => ctx.io.flush());
    return r.ok ? true : failed(ctx, 'flush', r.error);
  },
};

export const truncateCommand: ShellCommand = {
  name: 'truncate',
  synopsis: 'off',
  summary: 'changes the size of the disk to off bytes',
  help: [
    " 'truncate 2M' - makes the disk 2 MiB long",
    '',
    ' The size must be a whole number of sectors. Growing exposes zeroes. Only disks that can',
    ' change size support it (see info).',
  ],
  argMin: 1,
  argMax: 1,
  optstring: '',
  async run(ctx, a) {
    const size = sizeArg(ctx, a.args[0]!);
    if (size === undefined) return false;
    const { disk } = ctx.io;
    if (size % disk.sectorSize !== 0) {
      ctx.out(`truncate failed: ${size} bytes is not a whole number of ${disk.sectorSize}-byte sectors`);
      return false;
    }
    if (disk.resize === undefined) {
      ctx.out(`truncate failed: disk '${disk.diskType}' cannot change size`);
      return false;
    }
    const resize = disk.resize;
    const r = await timed(ctx, () => resize.call(disk, size / disk.sectorSize));
    return r.ok ? true : failed(ctx, 'truncate', r.error);
  },
};
