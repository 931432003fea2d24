/**
 * ExportJob: streams any Disk to a sink in chunks, sparse-aware; `convert` is the same job into a
 * format writer. Memory is one chunk, whatever the image size.
 *
 * Holes stay holes: only the runs the source allocates are read (allocation.ts: for a layered
 * stack, its layers' presence; other disks are read whole), and within them all-zero 4 KiB
 * blocks are not written. The sink is told the final size at the end, so a raw file gets its
 * trailing hole and a format writer can finish its metadata.
 *
 * Sinks: `syncFileSink` writes a raw image into a SyncFile (an OPFS file, a file in Node, or a
 * File System Access stream's port) and truncates it to size; `streamSink` feeds a sequential
 * byte stream (a download with no seeking), where holes must travel as zeroes, in bounded pieces;
 * `diskSink` writes into a Disk that reads as zero (a freshly created dynamic VHD, qcow2, raw
 * FileDisk): that is convert. The job writes in increasing offset order, which `streamSink` needs.
 * Safety: the source is only read. Errors: the source's and the sink's DiskErrors (QUOTA, IO)
 * fail the job; a disk sink of another size or sector size is INVALID_INPUT.
 */
import type { Disk } from '../disk/disk.ts';
import { asDiskError, DiskError } from '../disk/errors.ts';
import type { SyncFile } from '../ports/sync-file.ts';
import { allocationOf, type Allocation } from './allocation.ts';
import { BaseJob } from './base-job.ts';
import { checkSameGeometry, forEachNonZeroRun, pieces, ZERO_BLOCK_BYTES } from './copy-runs.ts';
import type { JobOptions } from './job.ts';

export interface ByteSink {
  /** Writes `data` at byte `offset` (a whole number of the source's sectors). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Called once at the end with the image's size in bytes. */
  finish(sizeBytes: number): Promise<void>;
}

export interface ExportJobOptions extends JobOptions {
  readonly source: Disk;
  readonly sink: ByteSink;
  /** Where the source holds data; default `allocationOf(source)`. */
  readonly allocation?: Allocation;
  readonly kind?: 'export' | 'convert';
}

export interface ExportResult {
  /** Bytes handed to the sink (holes and zero blocks excluded). */
  readonly bytesWritten: number;
  readonly sizeBytes: number;
}

export class ExportJob extends BaseJob<ExportResult> {
  readonly kind: 'export' | 'convert';
  readonly #source: Disk;
  readonly #sink: ByteSink;
  readonly #allocation: Allocation | undefined;

  constructor(options: ExportJobOptions) {
    super(options);
    this.kind = options.kind ?? 'export';
    this.#source = options.source;
    this.#sink = options.sink;
    this.#allocation = options.allocation;
  }

  protected async execute(): Promise<ExportResult> {
    const source = this.#source;
    const ss = source.sectorSize;
    const sectors = source.sectorCount();
    const chunkSectors = Math.max(1, Math.floor(this.chunkBytes / ss));
    const runs = await (this.#allocation ?? allocationOf(source))(0, sectors);
    this.setTotal(runs.reduce((n, r) => n + r.count, 0) * ss);
    const buf = new Uint8Array(chunkSectors * ss);
    let written = 0;
    for (const run of pieces(runs, chunkSectors)) {
      const view = buf.subarray(0, run.count * ss);
      await source.read(run.lba, view);
      const writes: Array<[number, number]> = [];
      forEachNonZeroRun(view, Math.max(ZERO_BLOCK_BYTES, ss), (offset, length) => writes.push([offset, length]));
      for (const [offset, length] of writes) {
        await this.#sink.write(run.lba * ss + offset, view.subarray(offset, offset + length));
        written += length;
      }
      await this.piece(run.count * ss);
    }
    await this.#sink.finish(sectors * ss);
    return { bytesWritten: written, sizeBytes: sectors * ss };
  }
}

/** Convert: an export into `target`, a disk of the source's geometry that reads as zero (a new image). */
export function convertJob(source: Disk, target: Disk, options: JobOptions = {}): ExportJob {
  const mismatch = checkSameGeometry('convert', source, target);
  if (mismatch) throw new DiskError('INVALID_INPUT', mismatch);
  return new ExportJob({ ...options, source, sink: diskSink(target), kind: 'convert' });
}

/** Writes into a Disk at byte offsets (whole sectors); flushes it at the end. */
export function diskSink(disk: Disk): ByteSink {
  return {
    write: (offset, data) => disk.write(offset / disk.sectorSize, data),
    finish: () => disk.flush(),
  };
}

/** A raw image in a SyncFile: holes are never written; the end truncates to size and flushes. */
export function syncFileSink(file: SyncFile, name = 'export target'): ByteSink {
  const io = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      throw asDiskError(e, `${name}: ${what}`);
    }
  };
  return {
    write: async (offset, data) => io('write', () => file.write(offset, data)),
    finish: async (size) =>
      io('finish', () => {
        file.truncate(size);
        file.flush();
      }),
  };
}

/**
 * A raw image as a sequential stream: `emit` gets every byte in order, holes as zero pieces of at
 * most `zeroChunkBytes` (one shared, never-modified buffer: `emit` must not keep or change it).
 * Errors: a write behind the position already emitted is INVALID_INPUT (the job never does that).
 */
export function streamSink(emit: (bytes: Uint8Array) => Promise<void>, zeroChunkBytes = 1024 * 1024): ByteSink {
  const zeroes = new Uint8Array(zeroChunkBytes);
  let position = 0;
  const padTo = async (offset: number) => {
    while (position < offset) {
      const n = Math.min(zeroes.length, offset - position);
      await emit(zeroes.subarray(0, n));
      position += n;
    }
  };
  return {
    async write(offset, data) {
      if (offset < position) throw new DiskError('INVALID_INPUT', `stream export: write at ${offset} is behind the ${position} bytes already sent`);
      await padTo(offset);
      await emit(data);
      position += data.length;
    },
    finish: (size) => padTo(size),
  };
}
