/**
 * `Qcow2Refcounts`: the reference counts of a writable qcow2 image (qcow2.txt, "Host cluster
 * management"): the refcount table and its refcount blocks, held in memory and written back in
 * crash-safe order by the writer (writer.ts).
 *
 * Promises
 * - `allocate(n)` hands out n contiguous clusters at the end of the file, each with refcount 1.
 *   A missing refcount block is allocated at the end too (covering itself when it can); a full
 *   refcount table is replaced by a larger copy at the end, with every block the new clusters
 *   need. Freed clusters are never reused by this writer, so a stale reader of a freed cluster
 *   still finds its old bytes, and no cluster can be referenced by old and new metadata at once.
 * - Increments stay in memory until `writeIncrements`, which writes refcount blocks, flushes,
 *   then writes new table entries (or the moved table and its header fields) and flushes: so a
 *   table entry never points at an unwritten block, and the writer writes L2/L1 tables only
 *   afterwards (a crash leaves leaks, never a cluster in use with refcount 0, as QEMU orders
 *   its refcount cache before its L2 cache).
 * - `free` only records decrements; `writeFrees`, called after the L2/L1 tables that dropped
 *   the references are on disk, applies and writes them (QEMU's reverse dependency for frees).
 *
 * Errors: CORRUPT_IMAGE when a refcount would overflow or go below zero, or a table entry is
 * unaligned; UNSUPPORTED when the table would exceed QEMU's 8 MiB limit; the file's DiskErrors.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { MAX_REFCOUNT_TABLE_BYTES, u64, type Qcow2Header } from './header.ts';

/** Clean refcount blocks kept in memory beyond the dirty ones. */
const BLOCK_CACHE = 256;

export class Qcow2Refcounts {
  readonly #file: ImageFile;
  readonly #cs: number;
  readonly #bits: number;
  readonly #perBlock: number;
  #table: number[];
  #tableOffset: number;
  #tableClusters: number;
  readonly #blocks = new Map<number, DataView>();
  readonly #dirtyBlocks = new Set<number>();
  readonly #dirtyEntries = new Set<number>();
  #tableMoved = false;
  #pendingFrees: number[] = [];
  /** Index of the first cluster past everything in use: where the next allocation goes. */
  #nextFree: number;

  private constructor(file: ImageFile, h: Qcow2Header, table: number[]) {
    this.#file = file;
    this.#cs = h.clusterSize;
    this.#bits = 2 ** h.refcountOrder;
    this.#perBlock = (h.clusterSize * 8) / this.#bits;
    this.#table = table;
    this.#tableOffset = h.refcountTableOffset;
    this.#tableClusters = h.refcountTableClusters;
    this.#nextFree = Math.ceil(file.size() / h.clusterSize);
  }

  static async open(file: ImageFile, h: Qcow2Header): Promise<Qcow2Refcounts> {
    const entries = (h.refcountTableClusters * h.clusterSize) / 8;
    const bytes = new Uint8Array(entries * 8);
    const inside = Math.max(0, Math.min(bytes.length, file.size() - h.refcountTableOffset));
    await file.read(h.refcountTableOffset, bytes.subarray(0, inside), 'refcount table');
    const v = new DataView(bytes.buffer);
    const table: number[] = [];
    for (let i = 0; i < entries; i++) {
      const off = u64(v, i * 8);
      if (off % h.clusterSize !== 0 || !Number.isSafeInteger(off)) {
        throw new DiskError('CORRUPT_IMAGE', `${file.name}: qcow2 refcount table entry ${i} (${off}) is not cluster aligned`, { field: 'refcount_table' });
      }
      table.push(off);
    }
    const refcounts = new Qcow2Refcounts(file, h, table);
    await refcounts.#skipUsedTail();
    return refcounts;
  }

  /**
   * Moves the allocation point past every cluster that has a refcount, even beyond the end of
   * the file (clusters leaked by a crash before their data was written): allocating one of
   * those again would count it twice.
   */
  async #skipUsedTail(): Promise<void> {
    for (const off of this.#table) if (off !== 0) this.#nextFree = Math.max(this.#nextFree, off / this.#cs + 1);
    this.#nextFree = Math.max(this.#nextFree, this.#tableOffset / this.#cs + this.#tableClusters);
    for (let i = this.#table.length - 1; i >= 0; i--) {
      if (this.#table[i] === 0) continue;
      const block = await this.#block(i);
      for (let k = this.#perBlock - 1; k >= 0; k--) {
        if (get(block, k, this.#bits) === 0) continue;
        this.#nextFree = Math.max(this.#nextFree, i * this.#perBlock + k + 1);
        return;
      }
    }
  }

  /** Where the next cluster will be allocated (a byte offset), for tests and `info`. */
  get endOffset(): number {
    return this.#nextFree * this.#cs;
  }

  /** Allocates `n` contiguous clusters with refcount 1 and returns the byte offset of the first. */
  async allocate(n: number): Promise<number> {
    const start = this.#nextFree;
    this.#nextFree += n;
    for (let c = start; c < start + n; c++) await this.#add(c, 1);
    return start * this.#cs;
  }

  /** Records one reference fewer for every cluster touched by [offset, offset + bytes); applied by `writeFrees`. */
  free(offset: number, bytes: number): void {
    if (bytes <= 0) return;
    const last = Math.floor((offset + bytes - 1) / this.#cs);
    for (let c = Math.floor(offset / this.#cs); c <= last; c++) this.#pendingFrees.push(c);
  }

  get hasIncrements(): boolean {
    return this.#dirtyBlocks.size > 0 || this.#dirtyEntries.size > 0 || this.#tableMoved;
  }

  /** Writes changed blocks, flushes, then new table entries (or the moved table and header), flushes. */
  async writeIncrements(): Promise<void> {
    if (!this.hasIncrements) return;
    await this.#writeBlocks();
    if (this.#dirtyEntries.size === 0 && !this.#tableMoved) return;
    await this.#file.flush!();
    if (this.#tableMoved) {
      const bytes = new Uint8Array(this.#tableClusters * this.#cs);
      const v = new DataView(bytes.buffer);
      this.#table.forEach((off, i) => setU64(v, i * 8, off));
      await this.#file.write!(this.#tableOffset, bytes);
      await this.#file.flush!();
      const head = new DataView(new ArrayBuffer(12));
      setU64(head, 0, this.#tableOffset);
      head.setUint32(8, this.#tableClusters);
      await this.#file.write!(48, new Uint8Array(head.buffer));
    } else {
      for (const i of [...this.#dirtyEntries].sort((a, b) => a - b)) {
        const entry = new DataView(new ArrayBuffer(8));
        setU64(entry, 0, this.#table[i]!);
        await this.#file.write!(this.#tableOffset + i * 8, new Uint8Array(entry.buffer));
      }
    }
    this.#dirtyEntries.clear();
    this.#tableMoved = false;
    await this.#file.flush!();
  }

  /** Applies the recorded frees and writes the blocks they changed (not flushed: a lost free is only a leak). */
  async writeFrees(): Promise<void> {
    if (this.#pendingFrees.length === 0) return;
    const frees = this.#pendingFrees;
    this.#pendingFrees = [];
    for (const c of frees) await this.#add(c, -1);
    await this.#writeBlocks();
  }

  async #writeBlocks(): Promise<void> {
    for (const i of [...this.#dirtyBlocks].sort((a, b) => a - b)) {
      const block = this.#blocks.get(i)!;
      await this.#file.write!(this.#table[i]!, new Uint8Array(block.buffer, block.byteOffset, block.byteLength));
    }
    this.#dirtyBlocks.clear();
    this.#evict();
  }

  #evict(): void {
    for (const key of this.#blocks.keys()) {
      if (this.#blocks.size <= BLOCK_CACHE) return;
      if (!this.#dirtyBlocks.has(key)) this.#blocks.delete(key);
    }
  }

  async #block(i: number): Promise<DataView> {
    const cached = this.#blocks.get(i);
    if (cached) return cached;
    const bytes = new Uint8Array(this.#cs);
    const off = this.#table[i]!;
    const inside = Math.max(0, Math.min(this.#cs, this.#file.size() - off));
    if (inside > 0) await this.#file.read(off, bytes.subarray(0, inside), 'refcount block');
    const view = new DataView(bytes.buffer);
    this.#blocks.set(i, view);
    return view;
  }

  /** Adds `delta` to cluster c's refcount, creating its refcount block (or a larger table) first if needed. */
  async #add(c: number, delta: number): Promise<void> {
    const i = Math.floor(c / this.#perBlock);
    if (i >= this.#table.length) await this.#grow(i);
    if (this.#table[i] === 0) {
      if (delta < 0) throw this.#bad(`cluster ${c} is freed but has no refcount block`);
      await this.#newBlock(i);
    }
    const block = await this.#block(i);
    const k = c % this.#perBlock;
    const next = get(block, k, this.#bits) + delta;
    if (next < 0 || next >= 2 ** Math.min(this.#bits, 53)) throw this.#bad(`cluster ${c} refcount would become ${next}`);
    set(block, k, this.#bits, next);
    this.#dirtyBlocks.add(i);
  }

  async #newBlock(i: number): Promise<void> {
    const b = this.#nextFree++;
    this.#table[i] = b * this.#cs;
    this.#blocks.set(i, new DataView(new ArrayBuffer(this.#cs)));
    this.#dirtyBlocks.add(i);
    this.#dirtyEntries.add(i);
    await this.#add(b, 1); // the block's own cluster: in this block, or in one made for it
  }

  /**
   * A new, larger refcount table at the end of the file, followed by every refcount block that
   * the table's own clusters and those blocks need, so the new layout describes itself.
   */
  async #grow(needIndex: number): Promise<void> {
    const cs = this.#cs;
    let clusters = Math.max(this.#tableClusters * 2, Math.ceil(((needIndex + 1) * 8) / cs));
    for (;;) {
      const start = this.#nextFree;
      let extra = 0;
      let missing: number[];
      for (;;) {
        const end = start + clusters + extra; // clusters in use once the table and blocks exist
        missing = [];
        for (let i = Math.floor(start / this.#perBlock); i * this.#perBlock < end; i++) if (!this.#table[i]) missing.push(i);
        if (missing.length <= extra) break;
        extra = missing.length;
      }
      const lastIndex = Math.max(needIndex, ...missing);
      if ((lastIndex + 1) * 8 > clusters * cs) {
        clusters = Math.ceil(((lastIndex + 1) * 8) / cs);
        continue;
      }
      if (clusters * cs > MAX_REFCOUNT_TABLE_BYTES) {
        throw new DiskError('UNSUPPORTED', `${this.#file.name}: the qcow2 refcount table would exceed ${MAX_REFCOUNT_TABLE_BYTES} bytes`);
      }
      const old = { offset: this.#tableOffset, clusters: this.#tableClusters };
      const table = this.#table.slice();
      while (table.length < (clusters * cs) / 8) table.push(0);
      this.#table = table;
      this.#tableOffset = start * cs;
      this.#tableClusters = clusters;
      this.#tableMoved = true;
      this.#nextFree = start + clusters + missing.length;
      missing.forEach((i, n) => {
        this.#table[i] = (start + clusters + n) * cs;
        this.#blocks.set(i, new DataView(new ArrayBuffer(cs)));
        this.#dirtyBlocks.add(i);
      });
      for (let c = start; c < this.#nextFree; c++) await this.#add(c, 1);
      this.free(old.offset, old.clusters * cs);
      return;
    }
  }

  #bad(why: string): DiskError {
    return new DiskError('CORRUPT_IMAGE', `${this.#file.name}: qcow2 ${why}`, { field: 'refcount_block' });
  }
}

function setU64(v: DataView, at: number, value: number): void {
  v.setUint32(at, Math.floor(value / 0x100000000));
  v.setUint32(at + 4, value % 0x100000000);
}

/** Refcount k of a block with `bits`-bit entries (qcow2 packs sub-byte entries from the low bits up). */
function get(block: DataView, k: number, bits: number): number {
  if (bits === 64) return u64(block, k * 8);
  if (bits === 32) return block.getUint32(k * 4);
  if (bits === 16) return block.getUint16(k * 2);
  if (bits === 8) return block.getUint8(k);
  const byte = block.getUint8(Math.floor((k * bits) / 8));
  return (byte >> ((k * bits) % 8)) & (2 ** bits - 1);
}

function set(block: DataView, k: number, bits: number, value: number): void {
  if (bits === 64) setU64(block, k * 8, value);
  else if (bits === 32) block.setUint32(k * 4, value);
  else if (bits === 16) block.setUint16(k * 2, value);
  else if (bits === 8) block.setUint8(k, value);
  else {
    const at = Math.floor((k * bits) / 8);
    const shift = (k * bits) % 8;
    const mask = (2 ** bits - 1) << shift;
    block.setUint8(at, (block.getUint8(at) & ~mask) | (value << shift));
  }
}
