/**
 * `disklab convert [-f FMT] [-O raw|vhd|qcow2] [-o subformat=fixed|cluster_size=N] [-p] SRC DST`:
 * copies SRC's contents into a new image DST, in bounded chunks (never the whole image in
 * memory), skipping zero blocks so the output stays sparse (a qcow2 target allocates only the
 * clusters holding non-zero data, as qemu-img convert does).
 *
 * DST is built under a temporary name beside it and renamed into place only when complete and
 * flushed; on any failure (or Ctrl-C) the temporary file is removed, so no half-written DST is
 * ever left. An existing DST is refused unless --force is given. -p prints qemu-img's progress,
 * "    (12.00/100%)\r", to stderr.
 *
 * Encryption (crypt-options.ts): --decrypt-key-file reads SRC through XTS-AES-256 (dm-crypt plain
 * aes-xts-plain64), --encrypt-key-file writes DST so; --iv-offset sets the tweak of sector 0.
 * Key files are read and checked before anything is opened. An encrypted DST is written whole,
 * zero blocks included (copyDisk `writeZeroes`): a skipped block would stay zero bytes, which
 * dm-crypt and OpenSSL decrypt to noise, so DST is not sparse. Holes in SRC's metadata are still
 * skipped unread when only decrypting.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createImage, openImage, parseFormatName, type OpenedImage } from '../node/open-image.ts';
import type { Disk } from '../core/disk/disk.ts';
import { openDisk } from '../core/disk/open-disk.ts';
import { AsyncFileDisk } from '../node/async-file-disk.ts';
import { copyDisk } from './copy.ts';
import { planCrypt, wrapSource, wrapTarget } from './crypt-options.ts';
import { chainExtents, imageAllocation } from './map-extents.ts';
import type { CliIo } from './io.ts';
import { optionsFor, parseCreateOptions, refuseExisting } from './options.ts';
import { parseSize } from './sizes.ts';
import { throttleReads } from './rate-limit.ts';
import { formatHttpSummary, httpSummary } from './http-summary.ts';
import type { OpenedUrl } from '../node/open-url.ts';

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
  /** 64-byte key files (see crypt-options.ts) and the IV offset as typed. */
  readonly encryptKeyFile?: string;
  readonly decryptKeyFile?: string;
  readonly ivOffset?: string;
  /** `-r RATE`: bytes per second read from SRC, by the jobs' throttle (rate-limit.ts). */
  readonly rateLimit?: number;
  /** Tests: chunk size, and a hook run after each chunk (it may throw to simulate a failure). */
  readonly chunkBytes?: number;
  readonly afterChunk?: (done: number, total: number) => void;
}

/** Chunks written at once to a raw target (qemu-img convert's default is 8 coroutines). */
const RAW_WRITES_IN_FLIGHT = 4;

export async function convertCommand(args: ConvertArgs, io: CliIo): Promise<number> {
  const format = parseFormatName(args.outputFormat, 'output format');
  const opts = parseCreateOptions(args.options, format === 'qcow2' ? ['cluster_size'] : optionsFor(format));
  const clusterText = opts.get('cluster_size');
  refuseExisting(args.target, args.force);
  const crypt = await planCrypt({ encryptKeyFile: args.encryptKeyFile, decryptKeyFile: args.decryptKeyFile, ivOffset: args.ivOffset });
  const source = await openImage(args.source, { format: args.sourceFormat, readOnly: true });
  let sourceDisk: Disk = source.disk;
  let targetDisk: Disk | undefined;
  const temp = path.join(path.dirname(args.target), `.${path.basename(args.target)}.disklab-${process.pid}-${Date.now()}.tmp`);
  let target: OpenedImage | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    fs.rmSync(temp, { force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sourceDisk = await wrapSource(source.disk, crypt);
    const bytes = sourceDisk.sectorCount() * sourceDisk.sectorSize;
    target = await createImage(temp, format, bytes, {
      subformat: opts.get('subformat'),
      ...(clusterText === undefined ? {} : { clusterSize: parseSize(clusterText) }),
    });
    if (format === 'raw') {
      // A raw target is written through the thread pool with several chunks in flight, as
      // qemu-img overlaps its writes; the synchronous port would write one chunk at a time.
      await target.disk.close();
      target = { ...target, disk: openDisk(await AsyncFileDisk.open(temp)) };
    }
    targetDisk = await wrapTarget(target.disk, crypt);
    const progress = args.progressJson ? jsonProgressPrinter(io) : args.progress ? progressPrinter(io) : undefined;
    progress?.(0, bytes);
    // Holes the source's metadata already knows of are skipped unread, as qemu-img does by block status.
    const dataExtents = chainExtents(await imageAllocation(source), bytes);
    const throttle = args.rateLimit === undefined ? undefined : throttleReads(sourceDisk, args.rateLimit);
    await copyDisk(throttle?.disk ?? sourceDisk, targetDisk, {
      dataExtents,
      writeZeroes: crypt.mustWriteZeroes,
      writesInFlight: format === 'raw' ? RAW_WRITES_IN_FLIGHT : 1,
      chunkBytes: args.chunkBytes,
      onProgress: (done, total) => {
        progress?.(done, total);
        args.afterChunk?.(done, total);
      },
    }).finally(() => throttle?.finish());
    // Closing the crypt wrapper closes the image under it (and wipes the key).
    await targetDisk.close();
    target = undefined;
    targetDisk = undefined;
    fs.renameSync(temp, args.target);
    if (args.progress && !args.progressJson) io.stderr('\n');
    if (args.progress) printHttpSummaries(source, args.progressJson === true, io);
    return 0;
  } catch (e) {
    await (targetDisk ?? target?.disk)?.close().catch(() => undefined);
    fs.rmSync(temp, { force: true });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sourceDisk.close();
  }
}

/** What reading SRC over HTTP cost, one line per file of its chain (nothing for a local SRC). */
function printHttpSummaries(source: OpenedImage, json: boolean, io: CliIo): void {
  const sources = (source as Partial<OpenedUrl>).sources ?? [];
  for (const s of sources) {
    const summary = httpSummary(s);
    io.stderr(json ? `${JSON.stringify({ type: 'http', ...summary })}\n` : formatHttpSummary(summary));
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
