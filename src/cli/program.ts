/**
 * The disklab command line: commander wiring over the command functions, shaped like qemu-img.
 * `runCli(argv, io)` never exits the process or throws: it prints through `io` and resolves to
 * the exit status (0 success; 1 failure or usage error; compare: 1 different, 2 error). Every
 * failure is one line, `disklab: <problem>`.
 */
import * as fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { compareCommand } from './compare.ts';
import { convertCommand } from './convert.ts';
import { parseSize } from './sizes.ts';
import { CRYPT_OPTIONS, type CryptCliOptions } from './crypt-options.ts';
import { createCommand } from './create.ts';
import { reportError } from './errors.ts';
import { infoCommand } from './info.ts';
import type { CliIo } from './io.ts';
import { mapCommand } from './map.ts';
import { measureCommand } from './measure.ts';
import { ioCommand } from './io-command.ts';
import { checkCommand } from './check.ts';
import { commitCommand } from './commit.ts';

const FORMAT_HELP = 'image format: raw, vhd (or vpc), vhdx, qcow2; default: detect by content';

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const EXAMPLES = `
Examples:
  disklab create -f vhd -o subformat=fixed disk.vhd 10G
  disklab create -f vhd -b base.vhd child.vhd      (a differencing VHD)
  disklab info --output=json disk.vhd
  disklab convert -p -O raw disk.vhd disk.raw
  disklab compare disk.vhd disk.raw      (exit 0 identical, 1 different, 2 error)
  disklab map --output=json disk.vhd
  disklab info --backing-chain --output=json top.qcow2
  disklab measure -O qcow2 -o cluster_size=64k disk.raw
  disklab io disk.raw -c 'write -P 0xab 0 4096' -c 'read -v 0 16'

Formats are detected by content unless -f names one. Sizes take qemu-img suffixes
(k, M, G, T, P, E) and round up to 512 bytes. Existing files are never overwritten
without --force. Errors print one line, "disklab: <problem> [CODE]", and exit non-zero.
`;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const outputOption = () => new Option('--output <fmt>', 'output format').choices(['human', 'json']).default('human');

export function buildProgram(io: CliIo, setStatus: (code: number) => void): Command {
  const program = new Command('disklab');
  program
    .description('Inspect, create, convert, commit and compare disk images (raw, VHD, VHDX, qcow2; local files or http(s) URLs), like qemu-img.')
    .version(version(), '-V, --version')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(`disklab: ${s.replace(/^error: /, '').trimEnd()}\n`),
    })
    .exitOverride()
    .showSuggestionAfterError()
    .allowExcessArguments(false)
    .addHelpText('after', EXAMPLES);

  program
    .command('info')
    .description('show an image\'s format, size and format details')
    .option('-f, --format <fmt>', FORMAT_HELP)
    .addOption(outputOption())
    .option('--backing-chain', 'show every file of the backing chain, top first (JSON: an array)')
    .argument('<image>', 'image file')
    .action(async (image: string, o: { format?: string; output: 'human' | 'json'; backingChain?: boolean }) => {
      setStatus(await infoCommand({ image, format: o.format, output: o.output, backingChain: o.backingChain === true }, io));
    });

  program
    .command('create')
    .description('create a new zeroed image')
    .option('-f, --format <fmt>', 'raw, vhd (vpc) or qcow2', 'raw')
    .option('-o, --options <list>', 'format options: subformat=fixed|dynamic for vhd; cluster_size=N, backing_file, backing_fmt for qcow2', collect)
    .option('-b, --backing <parent>', 'a qcow2 overlay over this backing file, or a differencing VHD over this parent (size defaults to its size)')
    .option('-F, --backing-format <fmt>', 'qcow2: the backing file\'s format (qcow2, raw, vpc); default: detect by content')
    .option('--force', 'replace an existing file')
    .argument('<image>', 'image file to create')
    .argument('[size]', 'size in bytes, or with a suffix: k, M, G, T, P, E (rounded up to 512 bytes)')
    .action(async (image: string, size: string | undefined, o: { format: string; options?: string[]; force?: boolean; backing?: string; backingFormat?: string }) => {
      setStatus(
        await createCommand(
          { image, size, format: o.format, options: o.options ?? [], force: o.force === true, backing: o.backing, ...(o.backingFormat === undefined ? {} : { backingFormat: o.backingFormat }) },
          io,
        ),
      );
    });

  program
    .command('convert')
    .description('copy an image into a new image of another (or the same) format')
    .option('-f, --format <fmt>', `source ${FORMAT_HELP}`)
    .option('-O, --output-format <fmt>', 'target format: raw, vhd (vpc) or qcow2', 'raw')
    .option('-o, --options <list>', 'target format options, e.g. subformat=fixed (vhd), cluster_size=N (qcow2)', collect)
    .option('-p', 'show progress on stderr, as qemu-img does')
    .addOption(new Option('--progress <fmt>', 'progress on stderr: human (like -p) or json (one JSON line per percent)').choices(['human', 'json']))
    .option('--force', 'replace an existing target')
    .option('-r, --rate-limit <rate>', 'read SRC at most RATE bytes per second (suffixes k, M, G), like qemu-img convert -r (QEMU 7.2+)')
    .option(...CRYPT_OPTIONS[0]!)
    .option(...CRYPT_OPTIONS[1]!)
    .option(...CRYPT_OPTIONS[2]!)
    .argument('<source>', 'image to read')
    .argument('<target>', 'image to write (must not exist)')
    .action(async (source: string, target: string, o: { format?: string; outputFormat: string; options?: string[]; p?: boolean; progress?: 'human' | 'json'; force?: boolean; rateLimit?: string } & CryptCliOptions) => {
      setStatus(
        await convertCommand(
          {
            source,
            target,
            sourceFormat: o.format,
            outputFormat: o.outputFormat,
            options: o.options ?? [],
            progress: o.p === true || o.progress !== undefined,
            progressJson: o.progress === 'json',
            force: o.force === true,
            encryptKeyFile: o.encryptKeyFile,
            decryptKeyFile: o.decryptKeyFile,
            ivOffset: o.ivOffset,
            ...(o.rateLimit === undefined ? {} : { rateLimit: parseSize(o.rateLimit) }),
          },
          io,
        ),
      );
    });

  program
    .command('compare')
    .description('compare two images\' contents: exit 0 identical, 1 different, 2 error')
    .option('-f, --format <fmt>', 'first image\'s format (default: detect by content)')
    .option('-F, --second-format <fmt>', 'second image\'s format (default: detect by content)')
    .option('-s, --strict', 'images of different sizes are different')
    .option('-q, --quiet', 'print nothing, just set the exit status')
    .argument('<first>', 'first image')
    .argument('<second>', 'second image')
    .action(async (first: string, second: string, o: { format?: string; secondFormat?: string; strict?: boolean; quiet?: boolean }) => {
      setStatus(
        await compareCommand(
          { first, second, firstFormat: o.format, secondFormat: o.secondFormat, strict: o.strict === true, quiet: o.quiet === true },
          io,
        ),
      );
    });

  program
    .command('map')
    .description('show where each guest range of an image is stored')
    .option('-f, --format <fmt>', FORMAT_HELP)
    .addOption(outputOption())
    .argument('<image>', 'image file')
    .action(async (image: string, o: { format?: string; output: 'human' | 'json' }) => {
      setStatus(await mapCommand({ image, format: o.format, output: o.output }, io));
    });

  program
    .command('measure')
    .description('how large an image of the -O format would be: a new one of --size N, or a copy of IMAGE (like qemu-img measure)')
    .addOption(outputOption())
    .option('-O, --output-format <fmt>', 'target format: raw, qcow2, or vpc (our extension: dynamic VHD metadata + allocated blocks)', 'raw')
    .option('-o, --options <list>', 'target format options: qcow2 cluster_size, compat, refcount_bits, extended_l2, preallocation; vpc subformat, block_size', collect)
    .option('-f, --format <fmt>', `source ${FORMAT_HELP}`)
    .option('--size <size>', 'measure a new empty image of this size (k, M, G, T, P, E suffixes) instead of IMAGE')
    .argument('[image]', 'source image whose allocated data the target must hold')
    .action(async (image: string | undefined, o: { output: 'human' | 'json'; outputFormat: string; options?: string[]; format?: string; size?: string }) => {
      setStatus(await measureCommand({ image, size: o.size, sourceFormat: o.format, outputFormat: o.outputFormat, options: o.options ?? [], output: o.output }, io));
    });

  program
    .command('commit')
    .description('write a differencing VHD\'s or qcow2 overlay\'s data into its parent (the overlay is kept, like qemu-img commit -d)')
    .option('-f, --format <fmt>', FORMAT_HELP)
    .option('-p, --progress', 'show progress on stderr')
    .argument('<image>', 'the differencing VHD or qcow2 overlay')
    .action(async (image: string, o: { format?: string; progress?: boolean }) => {
      setStatus(await commitCommand({ image, format: o.format, progress: o.progress === true }, io));
    });

  program
    .command('check')
    .description('check a qcow2 image\'s reference counts: exit 0 clean, 2 corrupt, 3 leaks, 63 no checks for this format')
    .option('-f, --format <fmt>', FORMAT_HELP)
    .addOption(outputOption())
    .argument('<image>', 'image file')
    .action(async (image: string, o: { format?: string; output: 'human' | 'json' }) => {
      setStatus(await checkCommand({ image, format: o.format, output: o.output }, io));
    });

  program
    .command('io')
    .description('run qemu-io-style commands (read, write, discard, flush, map, info, help) on an image')
    .option('-f, --format <fmt>', FORMAT_HELP)
    .option('-r, --read-only', 'open the image read-only')
    .requiredOption('-c, --cmd <command>', 'a command to run; repeat for several, run in order', collect)
    .argument('<image>', 'image file')
    .action(async (image: string, o: { format?: string; readOnly?: boolean; cmd: string[] }) => {
      setStatus(await ioCommand({ image, format: o.format, readOnly: o.readOnly === true, commands: o.cmd }, io));
    });

  return program;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let status = 0;
  const program = buildProgram(io, (code) => {
    status = code;
  });
  // Errors raised inside a command propagate out of parseAsync; compare handles its own (exit 2).
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 1;
    }
    // commander answers `help <unknown>` with the whole help text; say what was wrong instead.
    const asked = argv[0] === 'help' ? argv[1] : undefined;
    if (asked !== undefined && !program.commands.some((c) => c.name() === asked || c.aliases().includes(asked))) {
      io.stderr(`disklab: no command '${asked}' (see disklab --help)\n`);
      return 1;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    reportError(io, e);
    return 1;
  }
}
