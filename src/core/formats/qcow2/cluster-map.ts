/**
 * Guest-to-host mapping of a qcow2 image (qcow2.txt, "Cluster mapping" and "Extended L2
 * Entries"): an L1 table (the active one or a snapshot's) pointing at L2 tables, whose entries
 * say, per guest cluster (or per subcluster with extended L2), whether it is unallocated,
 * zero, stored at a host offset, or compressed.
 *
 * `segments(cluster)` turns one guest cluster into byte ranges within the cluster, each in one
 * state. `readCompressed` decompresses a compressed cluster through the Inflate port.
 * Every host offset is checked (alignment, inside the file) before use; L2 tables are cached
 * (a bounded number). Errors: `CORRUPT_IMAGE` naming the field (`l1_entry`, `l2_entry`,
 * `compressed_cluster`); the file's own errors pass through.
 *
 * For a writable image (writer.ts) the map is also the in-memory metadata: the writer changes
 * L1 entries in the shared L1 buffer and L2 entries in the cached tables, `pin`ning every table
 * it changed so the cache never drops (and later re-reads a stale on-disk copy of) a table that
 * is not written back yet. Readers therefore always see the newest mapping.
 */
import { DiskError } from '../../disk/errors.ts';
import type { Inflate } from '../../ports/inflate.ts';
import type { ImageFile } from '../image-file.ts';
import type { Qcow2Header } from './header.ts';

export type SegmentState = 'absent' | 'zero' | 'data' | 'compressed';

export interface Segment {
  /** Byte range within the guest cluster. */
  readonly start: number;
  readonly end: number;
  readonly state: SegmentState;
  /** Host byte offset of `start` for 'data'; of the compressed stream for 'compressed'. */
  readonly host: number;
  /** Compressed stream length in bytes (clipped to the file), for 'compressed'. */
  readonly length: number;
}

const L2_CACHE_TABLES = 64;
/** Bits 9..55 of an entry's high and low words. */
const OFFSET_HI_MASK = 0x00ffffff;
const OFFSET_LO_MASK = 0xfffffe00;

export class ClusterMap {
  readonly #file: ImageFile;
  readonly #h: Qcow2Header;
  readonly #l1: DataView;
  readonly #l1Size: number;
  readonly #l2Cache = new Map<number, DataView>();
  readonly #pinned = new Set<number>();
  readonly #l2Entries: number;
  readonly #entryBytes: number;
  #lastCompressed: { host: number; data: Uint8Array } | undefined;

  constructor(file: ImageFile, header: Qcow2Header, l1: Uint8Array) {
    this.#file = file;
    this.#h = header;
    this.#l1 = new DataView(l1.buffer, l1.byteOffset, l1.byteLength);
    this.#l1Size = l1.length / 8;
    this.#entryBytes = header.extendedL2 ? 16 : 8;
    this.#l2Entries = header.clusterSize / this.#entryBytes;
  }

  /** Entries in the L1 table; guest clusters beyond what it covers are unallocated. */
  get l1Size(): number {
    return this.#l1Size;
  }

  get l2Entries(): number {
    return this.#l2Entries;
  }

  /** Host offset of the L2 table covering L1 index `i`, or 0 if none. */
  l2Offset(i: number): number {
    if (i >= this.#l1Size) return 0;
    const hi = this.#l1.getUint32(i * 8) & OFFSET_HI_MASK;
    const lo = (this.#l1.getUint32(i * 8 + 4) & OFFSET_LO_MASK) >>> 0;
    return hi * 0x100000000 + lo;
  }

  async #l2(i: number): Promise<DataView | undefined> {
    const offset = this.l2Offset(i);
    if (offset === 0) return undefined;
    const cached = this.#l2Cache.get(offset);
    if (cached) return cached;
    const cs = this.#h.clusterSize;
    if (offset % cs !== 0 || offset + cs > this.#file.size()) {
      throw new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 L1 entry ${i} points at ${offset}, unaligned or past the end of the file`, { field: 'l1_entry' });
    }
    const bytes = new Uint8Array(cs);
    await this.#file.read(offset, bytes, 'L2 table');
    const view = new DataView(bytes.buffer);
    this.#evict();
    this.#l2Cache.set(offset, view);
    return view;
  }

  /** Drops the oldest unpinned table once the cache is full (pinned tables are not counted). */
  #evict(): void {
    if (this.#l2Cache.size - this.#pinned.size < L2_CACHE_TABLES) return;
    for (const key of this.#l2Cache.keys()) {
      if (this.#pinned.has(key)) continue;
      this.#l2Cache.delete(key);
      return;
    }
  }

  /** The (cached) L2 table of L1 index `i`, or undefined when there is none: the writer edits it in place after `pin`. */
  async table(i: number): Promise<DataView | undefined> {
    return this.#l2(i);
  }

  /** Keeps the table at `offset` in the cache until `unpin`: it holds changes not yet on disk. */
  pin(offset: number): void {
    this.#pinned.add(offset);
  }

  unpin(offset: number): void {
    this.#pinned.delete(offset);
  }

  /** Puts a new, pinned L2 table at `offset` for L1 index `i` and points the in-memory L1 entry at it. */
  installTable(i: number, offset: number, table: DataView): void {
    this.#l2Cache.set(offset, table);
    this.#pinned.add(offset);
    this.setL1(i, offset);
  }

  /** Sets L1 entry `i` (in the shared L1 buffer) to `offset` with the copied flag, or to 0. */
  setL1(i: number, offset: number): void {
    const hi = Math.floor(offset / 0x100000000);
    this.#l1.setUint32(i * 8, offset === 0 ? 0 : (hi | 0x80000000) >>> 0);
    this.#l1.setUint32(i * 8 + 4, offset % 0x100000000);
  }

  /** The byte ranges of guest cluster `c` and their states, covering [0, clusterSize). */
  async segments(c: number): Promise<Segment[]> {
    const cs = this.#h.clusterSize;
    const l1i = Math.floor(c / this.#l2Entries);
    const table = await this.#l2(l1i);
    if (!table) return [{ start: 0, end: cs, state: 'absent', host: 0, length: 0 }];
    const at = (c % this.#l2Entries) * this.#entryBytes;
    return this.decode(c, table.getUint32(at), table.getUint32(at + 4), this.#entryBytes === 16 ? table.getUint32(at + 8) : 0, this.#entryBytes === 16 ? table.getUint32(at + 12) : 0);
  }

  /** Decodes one L2 entry (hi/lo words, and the extended bitmap's zero/alloc words). */
  decode(c: number, hi: number, lo: number, zeroBits: number, allocBits: number): Segment[] {
    const h = this.#h;
    const cs = h.clusterSize;
    const bad = (why: string): never => {
      throw new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 L2 entry for guest cluster ${c} ${why}`, { field: 'l2_entry' });
    };
    if (hi & 0x40000000) {
      // Compressed: offset in bits 0..x-1, additional sectors in x..61, x = 62 - (cluster_bits - 8).
      const entry = (BigInt(hi) << 32n) | BigInt(lo);
      const x = BigInt(62 - (h.clusterBits - 8));
      const host = Number(entry & ((1n << x) - 1n));
      const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1;
      if (h.extendedL2 && (zeroBits | allocBits) !== 0) bad('is compressed but has subcluster bits set');
      const fileSize = this.#file.size();
      if (host >= fileSize) bad(`has compressed data at ${host}, past the end of the file`);
      const length = Math.min(sectors * 512 - (host % 512), fileSize - host);
      return [{ start: 0, end: cs, state: 'compressed', host, length }];
    }
    const host = (hi & OFFSET_HI_MASK) * 0x100000000 + ((lo & OFFSET_LO_MASK) >>> 0);
    const checkHost = (): void => {
      if (host % cs !== 0) bad(`has host offset ${host}, not cluster aligned`);
      if (host >= this.#file.size()) bad(`has host offset ${host}, past the end of the file`);
    };
    if (!h.extendedL2) {
      if (h.version === 3 && lo & 1) return [{ start: 0, end: cs, state: 'zero', host: 0, length: 0 }];
      if (host === 0) return [{ start: 0, end: cs, state: 'absent', host: 0, length: 0 }];
      checkHost();
      return [{ start: 0, end: cs, state: 'data', host, length: 0 }];
    }
    if (zeroBits & allocBits) bad('has subclusters both allocated and zero');
    if (allocBits !== 0) {
      if (host === 0) bad('has allocated subclusters but no host offset');
      checkHost();
    }
    const sub = cs / 32;
    const out: Segment[] = [];
    for (let i = 0; i < 32; ) {
      const state: SegmentState = (allocBits >>> i) & 1 ? 'data' : (zeroBits >>> i) & 1 ? 'zero' : 'absent';
      let j = i + 1;
      while (j < 32 && ((allocBits >>> j) & 1 ? 'data' : (zeroBits >>> j) & 1 ? 'zero' : 'absent') === state) j++;
      out.push({ start: i * sub, end: j * sub, state, host: state === 'data' ? host + i * sub : 0, length: 0 });
      i = j;
    }
    return out;
  }

  /** The whole decompressed guest cluster behind a 'compressed' segment (last one cached). */
  async readCompressed(seg: Segment, inflate: Inflate): Promise<Uint8Array> {
    if (this.#lastCompressed?.host === seg.host) return this.#lastCompressed.data;
    const input = new Uint8Array(seg.length);
    await this.#file.read(seg.host, input, 'compressed cluster');
    let data: Uint8Array;
    try {
      data = await inflate.inflateRaw(input, this.#h.clusterSize);
    } catch (e) {
      throw new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 compressed cluster at ${seg.host} does not decompress: ${e instanceof Error ? e.message : String(e)}`, { field: 'compressed_cluster', cause: e });
    }
    if (data.length !== this.#h.clusterSize) {
      throw new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 compressed cluster at ${seg.host} decompresses to ${data.length} bytes`, { field: 'compressed_cluster' });
    }
    this.#lastCompressed = { host: seg.host, data };
    return data;
  }

  /** Reads host bytes of a data segment; the part of a cluster past the end of the file reads as zero, as in QEMU. */
  async readData(host: number, into: Uint8Array): Promise<void> {
    const inside = Math.max(0, Math.min(into.length, this.#file.size() - host));
    if (inside > 0) await this.#file.read(host, into.subarray(0, inside), 'data cluster');
    into.fill(0, inside);
  }

  /** True when no L2 table in L1 range [from, to) exists: lets presence skip unallocated spans. */
  l1Empty(i: number): boolean {
    return this.l2Offset(i) === 0;
  }
}
