/**
 * PersistentLayer: a copy-on-write layer kept in two SyncFiles (OPFS files in the browser, plain
 * files in Node) that survives a reload and is crash-consistent.
 *
 * Files: `data` is an array of chunk slots (slot i at i * chunkBytes); `meta` holds two header
 * slots and metadata records (persistent-layer-format.ts): per chunk its presence and has-data
 * bitmaps and data slot, plus intervals of wholly-zero chunks.
 *
 * Crash consistency. `flush()` does: flush the data file; if the index changed, write the new
 * metadata record where no header can point, flush the meta file, write header generation g+1
 * (with the record's CRC, and its own) into slot (g+1) % 2, flush again. Reopening takes the
 * valid header with the highest generation. A data slot that the index stops using is reused
 * only after a flush has committed an index that no longer names it, so the durable index never
 * points at bytes of another chunk. What is promised after a crash:
 * - every write and unmap that completed before a completed `flush()` (or with `fua`) is there;
 * - the layer is always one of its flushed states: presence, zero state and sizes exactly as at
 *   some completed flush, or the flush in progress at the crash, never a mix;
 * - writes after the last completed flush: a sector that was absent or zero at that flush reads
 *   as it did then; a sector that held data may read its flushed bytes, any later-written bytes,
 *   or (if a write to it was in flight) a mix of them, as on a disk without power-loss protection.
 *   Unmaps, resizes and `reset` after the last flush are not durable until the next one.
 *
 * Cost: a flush after index changes rewrites the whole index (a few bits per sector held, and
 * nothing for runs of full chunks' bitmaps); data overwrites in place never touch the index.
 *
 * Errors: port failures become DiskErrors (a `QUOTA` from the port stays `QUOTA`). A failed write
 * or flush changes nothing that was durable and leaves the layer readable: an unrecorded data
 * write is simply not in the index; a failed flush keeps the index dirty for the next one.
 * `open` rejects with CORRUPT_IMAGE when no valid header or record is found; bad parameters to
 * `create` are DiskConfigErrors.
 */
import { crc32c } from '../checksum/crc32c.ts';
import { maxSectorsFor, type UnmapBehavior } from '../disk/disk.ts';
import { asDiskError, DiskConfigError, DiskError } from '../disk/errors.ts';
import { checkRange, isPowerOfTwo } from '../disk/range.ts';
import type { SyncFile } from '../ports/sync-file.ts';
import type { Layer, LayerWriteOptions, PresenceRun, SectorMarker } from './layer.ts';
import { checkMapArgs, occupancyFromRuns } from './occupancy.ts';
import { decodeHeader, decodeRecord, encodeHeader, encodeRecord, HEADER_SLOT_BYTES, RECORDS_START, type LayerHeader } from './persistent-layer-format.ts';
import { PersistentChunkMap, type MapChunk } from './persistent-layer-map.ts';
import { findBit, forEachRun, testBit } from './sector-bitmap.ts';

export interface PersistentLayerFiles {
  readonly data: SyncFile;
  readonly meta: SyncFile;
}

export interface PersistentLayerCreateOptions {
  readonly sectors: number;
  readonly sectorSize?: number;
  readonly physicalSectorSize?: number;
  /** Allocation unit in bytes: a power of two, at least one sector. Default 64 KiB. */
  readonly chunkBytes?: number;
  readonly layerId?: Uint8Array;
}

export interface PersistentLayerOpenOptions {
  readonly readOnly?: boolean;
  /** For messages. */
  readonly name?: string;
}

interface Extent {
  readonly offset: number;
  readonly length: number;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024;

export class PersistentLayer implements Layer {
  readonly layerType = 'persistent';
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly readOnly: boolean;
  readonly fuaRespected = true;
  readonly unmapBehavior: UnmapBehavior = 'zeroes';
  readonly optimalUnmapSectors: number;
  readonly diskId: Uint8Array;
  readonly name: string;
  readonly #files: PersistentLayerFiles;
  readonly #chunkSectors: number;
  readonly #chunkBytes: number;
  #map: PersistentChunkMap;
  #sectors: number;
  #generation: number;
  #record: Extent;
  /** A record whose header write failed half-way: it may be durable, so it is not overwritten either. */
  #uncertain: Extent | undefined;
  #dirty = false;
  /** Slots free in the durable index and in memory: reusable now. */
  readonly #free: number[] = [];
  /** Slots dropped since the last commit: the durable index may still name them. */
  #pendingFree: number[] = [];
  #highWater = 0;
  #closed = false;

  private constructor(files: PersistentLayerFiles, header: LayerHeader, map: PersistentChunkMap | undefined, readOnly: boolean, name: string) {
    this.#files = files;
    this.sectorSize = header.sectorSize;
    this.physicalSectorSize = header.physicalSectorSize;
    this.#chunkSectors = header.chunkSectors;
    this.#chunkBytes = header.chunkSectors * header.sectorSize;
    this.optimalUnmapSectors = header.chunkSectors;
    this.diskId = header.layerId.slice();
    this.#sectors = header.sectors;
    this.#generation = header.generation;
    this.#record = { offset: header.recordOffset, length: header.recordLength };
    this.readOnly = readOnly;
    this.name = name;
    this.#map = map ?? new PersistentChunkMap(header.chunkSectors, (slot) => this.#pendingFree.push(slot));
    if (map) {
      const used = new Set<number>();
      for (const c of map.chunks.values()) if (c.slot >= 0) used.add(c.slot);
      this.#highWater = used.size === 0 ? 0 : Math.max(...used) + 1;
      for (let s = this.#highWater - 1; s >= 0; s--) if (!used.has(s)) this.#free.push(s);
    }
  }

  /** Makes an empty layer in `files` (their contents are discarded) and opens it. */
  static create(files: PersistentLayerFiles, options: PersistentLayerCreateOptions, open: PersistentLayerOpenOptions = {}): PersistentLayer {
    const bad = (field: string, value: unknown, why: string): never => {
      throw new DiskConfigError('INVALID_PARAMETER', field, `persistent layer: ${field} ${String(value)} ${why}`, { value });
    };
    const sectorSize = options.sectorSize ?? 512;
    if (!isPowerOfTwo(sectorSize) || sectorSize < 512) bad('sectorSize', sectorSize, 'is not a power of two >= 512');
    const physicalSectorSize = options.physicalSectorSize ?? sectorSize;
    if (!isPowerOfTwo(physicalSectorSize) || physicalSectorSize < sectorSize) bad('physicalSectorSize', physicalSectorSize, 'is not a power of two >= the sector size');
    const chunkBytes = Math.max(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, sectorSize);
    if (!isPowerOfTwo(chunkBytes) || chunkBytes > 2 ** 26) bad('chunkBytes', chunkBytes, 'is not a power of two up to 64 MiB');
    if (!Number.isSafeInteger(options.sectors) || options.sectors < 0 || options.sectors > maxSectorsFor(sectorSize)) {
      bad('sectors', options.sectors, 'is not a sector count the layer can hold below 2^53 bytes');
    }
    const layerId = options.layerId?.slice(0, 16) ?? crypto.getRandomValues(new Uint8Array(16));
    const record = encodeRecord({ zeroExtents: [], chunks: [] }, chunkBytes / sectorSize);
    const header: LayerHeader = {
      sectorSize, physicalSectorSize, chunkSectors: chunkBytes / sectorSize, generation: 1, sectors: options.sectors,
      recordOffset: RECORDS_START, recordLength: record.length, recordCrc: crc32c(record), layerId,
    };
    const name = open.name ?? 'persistent layer';
    io(name, 'create', () => {
      files.data.truncate(0);
      files.meta.truncate(0);
      files.meta.write(RECORDS_START, record);
      files.meta.write(HEADER_SLOT_BYTES * (header.generation % 2), encodeHeader(header));
      files.meta.flush();
      files.data.flush();
    });
    return new PersistentLayer(files, header, undefined, open.readOnly ?? false, name);
  }

  /** Opens a layer from its files: the newest valid header and its record. */
  static open(files: PersistentLayerFiles, options: PersistentLayerOpenOptions = {}): PersistentLayer {
    const name = options.name ?? 'persistent layer';
    const headers = [0, 1].map((slot) => {
      const bytes = new Uint8Array(HEADER_SLOT_BYTES);
      io(name, 'read of a header', () => files.meta.read(slot * HEADER_SLOT_BYTES, bytes));
      return decodeHeader(bytes);
    });
    let header: LayerHeader | undefined;
    for (const h of headers) if (h && (!header || h.generation > header.generation)) header = h;
    if (!header) throw new DiskError('CORRUPT_IMAGE', `${name}: no valid header (not a persistent layer, or never created)`, { field: 'header' });
    if (!isPowerOfTwo(header.sectorSize) || header.sectorSize < 512 || header.sectors > maxSectorsFor(header.sectorSize)) {
      throw new DiskError('CORRUPT_IMAGE', `${name}: header holds an impossible geometry`, { field: 'header' });
    }
    const bytes = new Uint8Array(header.recordLength);
    io(name, 'read of the metadata record', () => files.meta.read(header.recordOffset, bytes));
    if (crc32c(bytes) !== header.recordCrc) {
      throw new DiskError('CORRUPT_IMAGE', `${name}: metadata record of generation ${header.generation} fails its checksum`, { field: 'metadata' });
    }
    const chunkCount = Math.ceil(header.sectors / header.chunkSectors);
    const record = decodeRecord(bytes, header.chunkSectors, chunkCount);
    const freed: number[] = [];
    const map = PersistentChunkMap.fromRecord(record, header.chunkSectors, (slot) => freed.push(slot));
    const layer = new PersistentLayer(files, header, map, options.readOnly ?? false, name);
    layer.#pendingFree = freed; // the map reports dropped slots into the layer's pending list
    return layer;
  }

  get generation(): number {
    return this.#generation;
  }

  /** The index changed since the last completed flush. */
  get dirty(): boolean {
    return this.#dirty;
  }

  sectorCount(): number {
    return this.#sectors;
  }

  bytesPresent(): number {
    return this.#map.dataSectors * this.sectorSize;
  }

  /** Bytes of data slots in use (the data file's live size). */
  bytesAllocated(): number {
    let slots = 0;
    for (const c of this.#map.chunks.values()) if (c.slot >= 0) slots++;
    return slots * this.#chunkBytes;
  }

  async read(lba: number, buf: Uint8Array, marker: SectorMarker): Promise<void> {
    const ss = this.sectorSize;
    this.#check();
    checkRange('read', lba, buf.length / ss, this.#sectors);
    // Data runs that lie end to end both in the data file and in `buf` (consecutive chunks in
    // consecutive slots, as sequential writes leave them) are read with one call: a 1 MiB read
    // is then one port call instead of one per 64 KiB chunk.
    let pending: { file: number; at: number; length: number } | undefined;
    const readPending = (): void => {
      if (!pending) return;
      const { file, at, length } = pending;
      pending = undefined;
      this.#io('read', () => this.#files.data.read(file, buf.subarray(at, at + length)));
    };
    const readData = (file: number, at: number, length: number): void => {
      if (pending && pending.file + pending.length === file && pending.at + pending.length === at) pending.length += length;
      else {
        readPending();
        pending = { file, at, length };
      }
    };
    this.#pieces(lba, buf.length / ss, (c, at, len, from) => {
      const chunk = this.#map.chunks.get(c);
      if (!chunk) {
        if (this.#map.zeroChunks.has(c)) {
          buf.fill(0, from * ss, (from + len) * ss);
          marker.mark(lba + from, len);
        }
        return;
      }
      if (chunk.dataCount === this.#chunkSectors) {
        // Wholly data: one run, no bitmap walk.
        readData(chunk.slot * this.#chunkBytes + at * ss, from * ss, len * ss);
        marker.mark(lba + from, len);
        return;
      }
      forEachRun(chunk.present, at, at + len, true, (start, length) => {
        const end = start + length;
        for (let i = start; i < end; ) {
          const isData = testBit(chunk.hasData, i);
          const j = findBit(chunk.hasData, i, end, !isData);
          const out = (from + i - at) * ss;
          const length = (j - i) * ss;
          if (isData) readData(chunk.slot * this.#chunkBytes + i * ss, out, length);
          else buf.fill(0, out, out + length);
          i = j;
        }
        marker.mark(lba + from + start - at, length);
      });
    });
    readPending();
  }

  async write(lba: number, data: Uint8Array, options: LayerWriteOptions = {}): Promise<void> {
    const ss = this.sectorSize;
    this.#check();
    if (this.readOnly && !options.noOverwrite) throw new DiskError('READ_ONLY', `write: ${this.name} is read-only`, { lba });
    checkRange('write', lba, data.length / ss, this.#sectors);
    this.#pieces(lba, data.length / ss, (c, at, len, from) => {
      const src = (start: number) => data.subarray((from + start - at) * ss);
      if (!options.noOverwrite) return this.#store(c, at, len, src(at));
      const chunk = this.#map.chunks.get(c);
      if (chunk) forEachRun(chunk.present, at, at + len, false, (start, length) => this.#store(c, start, length, src(start)));
      else if (!this.#map.zeroChunks.has(c)) this.#store(c, at, len, src(at));
    });
    if (options.fua && data.length > 0) this.#flush();
  }

  async unmap(lba: number, count: number, nextIsZero: boolean): Promise<void> {
    this.#check();
    if (this.readOnly) throw new DiskError('READ_ONLY', `unmap: ${this.name} is read-only`, { lba });
    checkRange('unmap', lba, count, this.#sectors);
    if (count === 0) return;
    this.#map.unmap(lba, count, nextIsZero);
    this.#dirty = true;
  }

  async flush(): Promise<void> {
    this.#check();
    this.#flush();
  }

  async resize(sectors: number): Promise<void> {
    this.#check();
    if (this.readOnly) throw new DiskError('READ_ONLY', `resize: ${this.name} is read-only`);
    if (!Number.isSafeInteger(sectors) || sectors < 0 || sectors > maxSectorsFor(this.sectorSize)) {
      throw new DiskError('INVALID_INPUT', `resize: ${sectors} is not a sector count the layer can hold`);
    }
    // What lay beyond the new end is forgotten, so growing again exposes absent sectors.
    if (sectors < this.#sectors) this.#map.unmap(sectors, this.#sectors - sectors, true);
    this.#sectors = sectors;
    this.#dirty = true;
  }

  /**
   * Discards every sector (all absent), durably: an empty index is committed first, and only then
   * is the data file truncated, so a crash leaves either the old contents or an empty layer.
   */
  async reset(): Promise<void> {
    this.#check();
    if (this.readOnly) throw new DiskError('READ_ONLY', `reset: ${this.name} is read-only`);
    this.#commit(encodeRecord({ zeroExtents: [], chunks: [] }, this.#chunkSectors));
    this.#map.clear();
    this.#free.length = 0;
    this.#pendingFree.length = 0; // emptied in place: the map's callback holds this array
    this.#highWater = 0;
    this.#dirty = false;
    this.#io('truncate', () => this.#files.data.truncate(0));
  }

  /** Flushes (so a clean close loses nothing), then closes both files; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    let failure: unknown;
    try {
      this.#flush();
    } catch (e) {
      failure = e;
    }
    this.#closed = true;
    for (const f of [this.#files.data, this.#files.meta]) {
      try {
        f.close();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw asDiskError(failure, `${this.name}: close`);
  }

  async presence(lba: number, count: number): Promise<PresenceRun[]> {
    this.#check();
    checkRange('presence', lba, count, this.#sectors);
    return this.#map.presence(lba, count);
  }

  async occupancyMap(buckets: number, lba = 0, count = this.#sectors - lba): Promise<Float64Array> {
    checkMapArgs(buckets, lba, count, this.#sectors);
    return occupancyFromRuns(this.#map.presence(lba, count), buckets, lba, count);
  }

  /** Writes `length` sectors of `src` at sector `start` of chunk `c`: bytes first, then the index. */
  #store(c: number, start: number, length: number, src: Uint8Array): void {
    const ss = this.sectorSize;
    const existing = this.#map.chunks.get(c);
    const fresh = existing === undefined || existing.slot < 0;
    const slot = fresh ? (this.#free.pop() ?? this.#highWater++) : existing.slot;
    try {
      this.#io('write', () => this.#files.data.write(slot * this.#chunkBytes + start * ss, src.subarray(0, length * ss)));
    } catch (e) {
      if (fresh) this.#free.push(slot); // never named by any index: reusable at once
      throw e;
    }
    const chunk: MapChunk = this.#map.materialize(c);
    if (chunk.slot !== slot) this.#dirty = true;
    chunk.slot = slot;
    if (this.#map.markData(chunk, start, length)) this.#dirty = true;
  }

  #flush(): void {
    this.#io('flush', () => this.#files.data.flush());
    if (!this.#dirty) return;
    this.#commit(encodeRecord(this.#map.toRecord(), this.#chunkSectors));
    this.#dirty = false;
  }

  /** Makes `record` the durable index (generation + 1); on success, slots dropped before it become reusable. */
  #commit(record: Uint8Array): void {
    const released = this.#pendingFree.length;
    this.#io('flush', () => this.#files.data.flush());
    const offset = this.#placeRecord(record.length);
    this.#io('metadata write', () => {
      this.#files.meta.write(offset, record);
      this.#files.meta.flush();
    });
    const generation = this.#generation + 1;
    const header = encodeHeader({
      sectorSize: this.sectorSize, physicalSectorSize: this.physicalSectorSize, chunkSectors: this.#chunkSectors,
      generation, sectors: this.#sectors, recordOffset: offset, recordLength: record.length, recordCrc: crc32c(record), layerId: this.diskId,
    });
    try {
      this.#io('header write', () => {
        this.#files.meta.write(HEADER_SLOT_BYTES * (generation % 2), header);
        this.#files.meta.flush();
      });
    } catch (e) {
      this.#uncertain = { offset, length: record.length };
      throw e;
    }
    this.#generation = generation;
    this.#record = { offset, length: record.length };
    this.#uncertain = undefined;
    this.#free.push(...this.#pendingFree.splice(0, released));
  }

  /** First place from RECORDS_START (4 KiB aligned) overlapping no record a header may name. */
  #placeRecord(length: number): number {
    const avoid = [this.#record, this.#uncertain].filter((e): e is Extent => e !== undefined).sort((a, b) => a.offset - b.offset);
    let at = RECORDS_START;
    for (const e of avoid) {
      if (at + length <= e.offset) break;
      at = Math.max(at, Math.ceil((e.offset + e.length) / HEADER_SLOT_BYTES) * HEADER_SLOT_BYTES);
    }
    return at;
  }

  /** Calls `fn(chunk, offsetInChunk, length, offsetInRequest)` for each chunk piece of [lba, lba + count), in sectors. */
  #pieces(lba: number, count: number, fn: (c: number, at: number, len: number, from: number) => void): void {
    const cs = this.#chunkSectors;
    for (let from = 0; from < count; ) {
      const c = Math.floor((lba + from) / cs);
      const at = lba + from - c * cs;
      const len = Math.min(cs - at, count - from);
      fn(c, at, len, from);
      from += len;
    }
  }

  #check(): void {
    if (this.#closed) throw new DiskError('ABORTED', `${this.name} is closed`);
  }

  #io<T>(what: string, fn: () => T): T {
    return io(this.name, what, fn);
  }
}

function io<T>(name: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asDiskError(e, `${name}: ${what}`);
  }
}
