/**
 * `Qcow2Writer`: the write path of a writable qcow2 image (a stand-alone image or the top of a
 * backing chain), used by `Qcow2Layer` for write, unmap and flush.
 *
 * What it promises
 * - A write to an allocated cluster (refcount 1, the L2 "copied" flag set) goes in place. Any
 *   other cluster (unallocated, zero, compressed, or shared) gets a new cluster at the end of the
 *   file, holding the whole cluster: the bytes written, and around them what the cluster read as
 *   before (copy-on-write from the backing chain for an unallocated cluster, as QEMU does), so a
 *   cluster is always complete and presence stays per cluster. The old host clusters (compressed
 *   data, a shared or preallocated cluster) are freed. New L2 tables are allocated the same way.
 * - Unmap: whole clusters become unallocated when nothing below reads as data there (the Layer's
 *   `nextIsZero`), else zero clusters (v3); partial clusters, and whole ones in v2 images over
 *   data, are written with zeroes. Either way the range reads as zeroes afterwards.
 * - Metadata is write-back, like QEMU's qcow2 cache: L2 tables, L1 entries and refcounts change
 *   in memory (readers see them at once through the shared ClusterMap) and reach the file on
 *   `flush()` (and after a FUA write, and when many tables are dirty) in crash-safe order:
 *   data flushed, then refcount blocks (flush), new refcount table entries (flush), L2 tables
 *   (flush), L1 entries (flush), and only then the refcount decrements of freed clusters. At no
 *   point does on-disk metadata point at unwritten data or at a cluster whose refcount is 0; a
 *   crash can only leak clusters.
 * - Writes, unmaps and flushes are serialised; reads run concurrently and see, per cluster, the
 *   old or the new mapping (freed clusters are never reused, so an old mapping still reads the
 *   old bytes).
 *
 * Errors: DiskErrors from the file (IO, ...) and CORRUPT_IMAGE from the metadata; after a
 * failure the in-memory metadata may be ahead of the file, so the caller should not keep using
 * the image (its on-disk state is still consistent, with possible leaks).
 */
import type { Disk } from '../../disk/disk.ts';
import type { Inflate } from '../../ports/inflate.ts';
import type { ImageFile } from '../image-file.ts';
import type { ClusterMap } from './cluster-map.ts';
import type { Qcow2Header } from './header.ts';
import type { Qcow2Refcounts } from './refcounts.ts';

/** Dirty L2 tables that trigger a metadata write-back without waiting for flush(). */
const MAX_DIRTY_TABLES = 256;
const COPIED = 0x80000000;
const COMPRESSED = 0x40000000;
const OFFSET_HI = 0x00ffffff;
const OFFSET_LO = 0xfffffe00;

type EntryKind = 'absent' | 'zero' | 'data' | 'compressed';

interface Entry {
  readonly kind: EntryKind;
  /** Host offset of a data cluster, a preallocated zero cluster, or compressed data. */
  readonly host: number;
  /** Bytes of host space the entry holds a reference to (0 for none). */
  readonly refBytes: number;
  /** The cluster is ours alone (refcount 1): it may be written in place. */
  readonly copied: boolean;
  readonly hi: number;
  readonly lo: number;
}

export interface Qcow2WriterParts {
  readonly file: ImageFile;
  readonly header: Qcow2Header;
  readonly map: ClusterMap;
  readonly l1: Uint8Array;
  readonly refcounts: Qcow2Refcounts;
  readonly inflate: Inflate;
  /** Virtual size in bytes. */
  readonly size: number;
  /** Told how many bytes changed between absent/zero and data, for `bytesPresent`. */
  readonly onDataBytes: (delta: number) => void;
}

export class Qcow2Writer {
  readonly #p: Qcow2WriterParts;
  readonly #cs: number;
  /** Dirty L2 tables: host offset -> L1 index. */
  readonly #dirtyTables = new Map<number, number>();
  readonly #dirtyL1 = new Set<number>();
  /** The backing chain below this image, for copy-on-write (undefined: it reads as zeroes). */
  #backing: Disk | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(parts: Qcow2WriterParts) {
    this.#p = parts;
    this.#cs = parts.header.clusterSize;
  }

  /** Attaches the backing chain (opened after this image, whose header names it). */
  setBacking(backing: Disk | undefined): void {
    this.#backing = backing;
  }

  /** Writes `data` at guest byte `start` (both sector aligned, inside the disk). */
  write(start: number, data: Uint8Array, fua: boolean): Promise<void> {
    return this.#serial(async () => {
      await this.#write(start, data);
      if (fua) await this.#writeBack();
      else if (this.#dirtyTables.size > MAX_DIRTY_TABLES) await this.#writeBack();
    });
  }

  /** Makes guest bytes [start, end) read as zeroes; `nextIsZero`: nothing below this image holds data there. */
  unmap(start: number, end: number, nextIsZero: boolean): Promise<void> {
    return this.#serial(async () => {
      const cs = this.#cs;
      for (let pos = start; pos < end; ) {
        const c = Math.floor(pos / cs);
        const base = c * cs;
        const stop = Math.min(end, base + cs);
        const whole = pos === base && (stop === base + cs || stop >= this.#p.size);
        const e = await this.#entry(c);
        if (whole && (nextIsZero || this.#p.header.version === 3)) {
          if (!(e.kind === 'absent' && nextIsZero) && !(e.kind === 'zero' && e.host === 0)) {
            await this.#setEntry(c, 0, nextIsZero ? 0 : 1, e);
          }
        } else if (!(e.kind === 'zero' || (e.kind === 'absent' && nextIsZero))) {
          await this.#write(pos, new Uint8Array(stop - pos));
        }
        pos = stop;
      }
      if (this.#dirtyTables.size > MAX_DIRTY_TABLES) await this.#writeBack();
    });
  }

  flush(): Promise<void> {
    return this.#serial(() => this.#writeBack());
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #write(start: number, data: Uint8Array): Promise<void> {
    const cs = this.#cs;
    const end = start + data.length;
    for (let pos = start; pos < end; ) {
      const c = Math.floor(pos / cs);
      const e = await this.#entry(c);
      if (e.kind === 'data' && e.copied) {
        const stop = Math.min(end, (c + 1) * cs);
        await this.#p.file.write!(e.host + (pos - c * cs), data.subarray(pos - start, stop - start));
        pos = stop;
        continue;
      }
      // A run of clusters that all need a new home, allocated contiguously and written at once.
      const entries: Entry[] = [e];
      let last = c;
      while ((last + 1) * cs < end && entries.length < 512) {
        const next = await this.#entry(last + 1);
        if (next.kind === 'data' && next.copied) break;
        entries.push(next);
        last++;
      }
      const runStart = c * cs;
      const runEnd = (last + 1) * cs;
      const buf = new Uint8Array(runEnd - runStart);
      if (pos > runStart) await this.#base(c, entries[0]!, buf.subarray(0, cs));
      if (end < runEnd && (last > c || pos === runStart)) await this.#base(last, entries[entries.length - 1]!, buf.subarray(buf.length - cs));
      const stop = Math.min(end, runEnd);
      buf.set(data.subarray(pos - start, stop - start), pos - runStart);
      await this.#ensureTables(c, last);
      const host = await this.#p.refcounts.allocate(entries.length);
      await this.#p.file.write!(host, buf);
      for (let k = 0; k < entries.length; k++) {
        const h = host + k * cs;
        await this.#setEntry(c + k, (Math.floor(h / 0x100000000) | COPIED) >>> 0, h % 0x100000000, entries[k]!);
      }
      pos = stop;
    }
  }

  /** What guest cluster c reads as before a write, into `into` (one cluster). */
  async #base(c: number, e: Entry, into: Uint8Array): Promise<void> {
    const { map, inflate } = this.#p;
    const backing = this.#backing;
    if (e.kind === 'zero') return;
    if (e.kind === 'data') return map.readData(e.host, into);
    if (e.kind === 'compressed') {
      const [seg] = map.decode(c, e.hi, e.lo, 0, 0);
      into.set(await map.readCompressed(seg!, inflate));
      return;
    }
    if (!backing) return;
    const ss = backing.sectorSize;
    const from = c * this.#cs;
    const stop = Math.min(from + this.#cs, backing.sectorCount() * ss);
    if (stop > from) await backing.read(from / ss, into.subarray(0, stop - from));
  }

  /** Creates the L2 tables covering guest clusters first..last that do not exist yet. */
  async #ensureTables(first: number, last: number): Promise<void> {
    const per = this.#p.map.l2Entries;
    for (let i = Math.floor(first / per); i <= Math.floor(last / per); i++) {
      if (this.#p.map.l2Offset(i) !== 0) continue;
      const offset = await this.#p.refcounts.allocate(1);
      this.#p.map.installTable(i, offset, new DataView(new ArrayBuffer(this.#cs)));
      this.#dirtyTables.set(offset, i);
      this.#dirtyL1.add(i);
    }
  }

  async #entry(c: number): Promise<Entry> {
    const { map, header } = this.#p;
    const table = await map.table(Math.floor(c / map.l2Entries));
    if (!table) return { kind: 'absent', host: 0, refBytes: 0, copied: false, hi: 0, lo: 0 };
    const at = (c % map.l2Entries) * 8;
    const hi = table.getUint32(at);
    const lo = table.getUint32(at + 4);
    if (hi & COMPRESSED) {
      const [seg] = map.decode(c, hi, lo, 0, 0);
      const s = seg!;
      const entry = (BigInt(hi) << 32n) | BigInt(lo);
      const x = BigInt(62 - (header.clusterBits - 8));
      const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1;
      const aligned = s.host - (s.host % 512);
      return { kind: 'compressed', host: aligned, refBytes: sectors * 512, copied: false, hi, lo };
    }
    const host = (hi & OFFSET_HI) * 0x100000000 + ((lo & OFFSET_LO) >>> 0);
    const copied = (hi & COPIED) !== 0;
    const refBytes = host === 0 ? 0 : this.#cs;
    if (header.version === 3 && lo & 1) return { kind: 'zero', host, refBytes, copied, hi, lo };
    if (host === 0) return { kind: 'absent', host: 0, refBytes: 0, copied: false, hi, lo };
    map.decode(c, hi, lo, 0, 0); // validates alignment and bounds
    return { kind: 'data', host, refBytes, copied, hi, lo };
  }

  /** Points guest cluster c at a new entry (in memory), freeing what the old entry referenced. */
  async #setEntry(c: number, hi: number, lo: number, old: Entry): Promise<void> {
    const { map } = this.#p;
    await this.#ensureTables(c, c);
    const i = Math.floor(c / map.l2Entries);
    const offset = map.l2Offset(i);
    const table = (await map.table(i))!;
    map.pin(offset);
    this.#dirtyTables.set(offset, i);
    const at = (c % map.l2Entries) * 8;
    table.setUint32(at, hi);
    table.setUint32(at + 4, lo);
    this.#p.refcounts.free(old.host, old.refBytes);
    const wasData = old.kind === 'data' || old.kind === 'compressed';
    const isData = (hi & OFFSET_HI) !== 0 || (lo & OFFSET_LO) !== 0;
    if (wasData !== isData) {
      const bytes = Math.max(0, Math.min(this.#cs, this.#p.size - c * this.#cs));
      this.#p.onDataBytes(isData ? bytes : -bytes);
    }
  }

  /** Writes the in-memory metadata back in crash-safe order (see the module doc). */
  async #writeBack(): Promise<void> {
    const { file, map, refcounts, l1 } = this.#p;
    await file.flush!();
    await refcounts.writeIncrements();
    if (this.#dirtyTables.size > 0) {
      for (const [offset, i] of [...this.#dirtyTables].sort((a, b) => a[0] - b[0])) {
        const table = await map.table(i);
        await file.write!(offset, new Uint8Array(table!.buffer, table!.byteOffset, table!.byteLength));
      }
      await file.flush!();
      for (const offset of this.#dirtyTables.keys()) map.unpin(offset);
      this.#dirtyTables.clear();
    }
    if (this.#dirtyL1.size > 0) {
      for (const i of [...this.#dirtyL1].sort((a, b) => a - b)) await file.write!(this.#p.header.l1TableOffset + i * 8, l1.subarray(i * 8, i * 8 + 8));
      await file.flush!();
      this.#dirtyL1.clear();
    }
    await refcounts.writeFrees();
  }
}
