/**
 * `disklab convert [-f FMT] [-O raw|vhd] [-o subformat=fixed] [-p] SRC DST`: copies SRC's
 * contents into a new image DST, in bounded chunks (never the whole image in memory), skipping
 * zero blocks so the output stays sparse.
 *
 * DST is built under a temporary name beside it and renamed into place only when complete and
 * flushed; on any failure (or Ctrl-C) the temporary file is removed, so no half-written DST is
 * ever left. An existing DST is refused unless --force is given. -p prints qemu-img's progress,
 * "    (12.00/100%)\r", to stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createImage, openImage, parseFormatName, type OpenedImage } from '../node/open-image.ts';
import { copyDisk } from './copy.ts';
import type { CliIo } from './io.ts';
import { optionsFor, parseCreateOptions, refuseExisting } from './options.ts';

export interface ConvertArgs {
  readonly source: string;
  readonly target: string;
  readonly sourceFormat?: string;
  readonly outputFormat: string;
  readonly options: readonly string[];
  readonly progress: boolean;
  /** `--progress=json`: one JSON object per line on stderr (done, total, bytes/s, ETA) instead of the percent line. */
  readonly progressJson?: boolean;
  readonly force: boolean;
  /** Tests: chunk size, and a hook run after each chunk (it may throw to simulate a failure). */
  readonly chunkBytes?: number;
  readonly afterChunk?: (done: number, total: number) => void;
}

export async function convertCommand(args: ConvertArgs, io: CliIo): Promise<number> {
  const format = parseFormatName(args.outputFormat, 'output format');
  const opts = parseCreateOptions(args.options, optionsFor(format));
  refuseExisting(args.target, args.force);
  const source = await openImage(args.source, { format: args.sourceFormat, readOnly: true });
  const temp = path.join(path.dirname(args.target), `.${path.basename(args.target)}.disklab-${process.pid}-${Date.now()}.tmp`);
  let target: OpenedImage | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    fs.rmSync(temp, { force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const bytes = source.disk.sectorCount() * source.disk.sectorSize;
    target = await createImage(temp, format, bytes, { subformat: opts.get('subformat') });
    const progress = args.progressJson ? jsonProgressPrinter(io) : args.progress ? progressPrinter(io) : undefined;
    progress?.(0, bytes);
    await copyDisk(source.disk, target.disk, {
      chunkBytes: args.chunkBytes,
      onProgress: (done, total) => {
        progress?.(done, total);
        args.afterChunk?.(done, total);
      },
    });
    await target.disk.close();
    target = undefined;
    fs.renameSync(temp, args.target);
    if (args.progress && !args.progressJson) io.stderr('\n');
    return 0;
  } catch (e) {
    await target?.disk.close().catch(() => undefined);
    fs.rmSync(temp, { force: true });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await source.disk.close();
  }
}

/** Machine-readable progress: a JSON line per whole percent and at the end, for scripts and UIs. */
function jsonProgressPrinter(io: CliIo): (done: number, total: number) => void {
  const started = performance.now();
  let last = -1;
  return (done, total) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (pct === last && done !== total) return;
    last = pct;
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (total - done) / rate : null;
    io.stderr(`${JSON.stringify({ type: 'progress', done, total, percent: pct, 'bytes-per-second': Math.round(rate), 'eta-seconds': eta === null ? null : Math.round(eta * 10) / 10 })}\n`);
  };
}

/** qemu-img's progress line, printed when the whole percent changes and at the end. */
function progressPrinter(io: CliIo): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total === 0 ? 100 : (done / total) * 100;
    if (Math.floor(pct) === last && done !== total) return;
    last = Math.floor(pct);
    io.stderr(`    (${pct.toFixed(2)}/100%)\r`);
  };
}
