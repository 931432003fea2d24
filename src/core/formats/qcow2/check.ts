/**
 * `checkQcow2(file)`: a consistency check in the manner of `qemu-img check`. It recomputes every
 * cluster's reference count from the metadata (header cluster, active and snapshot L1 tables,
 * their L2 tables and data clusters, the snapshot table, the refcount table and its blocks, the
 * bitmaps directory and tables) and compares it with the stored refcounts: a stored count above
 * the computed one is a leak, below it a corruption. It also reports unaligned table or cluster
 * offsets and L1/L2 "copied" flags that disagree with a refcount of exactly one, as QEMU does.
 *
 * The result has the fields of `qemu-img check --output=json` (all numeric fields always
 * present here; QEMU omits zero leaks, corruptions, fragmented and compressed counts), plus the
 * first messages found. Read-only: nothing is repaired.
 * Errors: the header must parse (CORRUPT_IMAGE / UNSUPPORTED as when opening); problems below
 * the header are counted, not thrown. Images of more than 2^27 clusters are UNSUPPORTED (the
 * computed table would be too large to hold).
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { u64, type Qcow2Header } from './header.ts';
import { readQcow2Header } from './open.ts';
import { readSnapshots } from './snapshots.ts';

export interface Qcow2CheckResult {
  readonly filename: string;
  readonly format: 'qcow2';
  readonly 'check-errors': number;
  readonly leaks: number;
  readonly corruptions: number;
  readonly 'image-end-offset': number;
  readonly 'total-clusters': number;
  readonly 'allocated-clusters': number;
  readonly 'fragmented-clusters': number;
  readonly 'compressed-clusters': number;
  /** Whether the header's dirty bit is set (refcounts may then be stale). */
  readonly dirty: boolean;
  /** Up to 100 human-readable findings, in the order found. */
  readonly messages: readonly string[];
}

const MAX_CLUSTERS = 2 ** 27;
const MAX_MESSAGES = 100;
const OFFSET_HI = 0x00ffffff;
const OFFSET_LO = 0xfffffe00;

class Counter {
  readonly counts: Uint32Array;
  readonly beyond = new Map<number, number>();
  constructor(n: number) {
    this.counts = new Uint32Array(n);
  }
  add(cluster: number): void {
    if (cluster < this.counts.length) this.counts[cluster]!++;
    else this.beyond.set(cluster, (this.beyond.get(cluster) ?? 0) + 1);
  }
  get(cluster: number): number {
    return cluster < this.counts.length ? this.counts[cluster]! : (this.beyond.get(cluster) ?? 0);
  }
}

export async function checkQcow2(file: ImageFile): Promise<Qcow2CheckResult> {
  const h = await readQcow2Header(file);
  const fileSize = file.size();
  const cs = h.clusterSize;
  const nbClusters = Math.ceil(fileSize / cs);
  if (nbClusters > MAX_CLUSTERS) throw new DiskError('UNSUPPORTED', `${file.name}: checking images of more than ${MAX_CLUSTERS} clusters is not supported`);
  const computed = new Counter(nbClusters);
  const messages: string[] = [];
  const r = { checkErrors: 0, leaks: 0, corruptions: 0, allocated: 0, fragmented: 0, compressed: 0 };
  const say = (m: string): void => {
    if (messages.length < MAX_MESSAGES) messages.push(m);
  };
  const corruption = (m: string): void => {
    r.corruptions++;
    say(`ERROR ${m}`);
  };
  /** Reads bytes, zero-filling past the end of the file (as QEMU's file driver does). */
  const readClamped = async (offset: number, length: number): Promise<Uint8Array> => {
    const out = new Uint8Array(length);
    const inside = Number.isSafeInteger(offset) ? Math.max(0, Math.min(length, fileSize - offset)) : 0;
    if (inside > 0) await file.read(offset, out.subarray(0, inside), 'metadata');
    return out;
  };
  const inc = (offset: number, size: number): void => {
    if (size <= 0) return;
    if (!Number.isSafeInteger(offset + size)) {
      corruption(`reference to offset ${offset} beyond 2^53 bytes`);
      return;
    }
    const last = Math.floor((offset + size - 1) / cs);
    for (let c = Math.floor(offset / cs); c <= last; c++) computed.add(c);
  };

  // The stored refcounts, read lazily one refcount block at a time.
  const rtEntries = (h.refcountTableClusters * cs) / 8;
  const rt = new DataView((await readClamped(h.refcountTableOffset, rtEntries * 8)).buffer);
  const bits = 2 ** h.refcountOrder;
  const perBlock = (cs * 8) / bits;
  const blocks = new Map<number, DataView | null>();
  const stored = async (cluster: number): Promise<number | undefined> => {
    const i = Math.floor(cluster / perBlock);
    if (i >= rtEntries) return 0;
    let block = blocks.get(i);
    if (block === undefined) {
      const off = u64(rt, i * 8) - (rt.getUint32(i * 8 + 4) & 0x1ff);
      if (off === 0) block = null;
      else if (!Number.isSafeInteger(off) || off % cs !== 0) block = new DataView(new ArrayBuffer(0));
      else block = new DataView((await readClamped(off, cs)).buffer);
      blocks.set(i, block);
    }
    if (block === null) return 0;
    if (block.byteLength === 0) return undefined;
    const k = cluster % perBlock;
    if (bits === 64) return u64(block, k * 8);
    if (bits >= 8) {
      const at = (k * bits) / 8;
      return bits === 8 ? block.getUint8(at) : bits === 16 ? block.getUint16(at) : block.getUint32(at);
    }
    const byte = block.getUint8(Math.floor((k * bits) / 8));
    return (byte >> ((k * bits) % 8)) & (2 ** bits - 1);
  };

  // Header cluster.
  inc(0, cs);

  const entryBytes = h.extendedL2 ? 16 : 8;
  const walkL1 = async (l1Offset: number, l1Size: number, active: boolean, what: string): Promise<void> => {
    inc(l1Offset, l1Size * 8);
    const l1 = new DataView((await readClamped(l1Offset, l1Size * 8)).buffer);
    for (let i = 0; i < l1Size; i++) {
      const l2 = (l1.getUint32(i * 8) & OFFSET_HI) * 2 ** 32 + ((l1.getUint32(i * 8 + 4) & OFFSET_LO) >>> 0);
      if (l2 === 0) continue;
      inc(l2, cs);
      if (l2 % cs !== 0) corruption(`${what} L2 table offset ${l2} (L1 index ${i}) is not cluster aligned`);
      await walkL2(l2, active, what);
    }
  };
  const walkL2 = async (l2: number, active: boolean, what: string): Promise<void> => {
    const t = new DataView((await readClamped(l2, cs)).buffer);
    let nextContiguous = 0;
    for (let at = 0; at < cs; at += entryBytes) {
      const hi = t.getUint32(at);
      const lo = t.getUint32(at + 4);
      if (hi & 0x40000000) {
        if (hi & 0x80000000) corruption(`${what} compressed cluster entry has the copied flag set`);
        const entry = (BigInt(hi) << 32n) | BigInt(lo);
        const x = BigInt(62 - (h.clusterBits - 8));
        const host = Number(entry & ((1n << x) - 1n));
        const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1;
        inc(host - (host % 512), sectors * 512);
        if (active) {
          r.allocated++;
          r.compressed++;
          r.fragmented++;
        }
        continue;
      }
      const host = (hi & OFFSET_HI) * 2 ** 32 + ((lo & OFFSET_LO) >>> 0);
      if (host === 0) continue;
      if (active) {
        r.allocated++;
        if (nextContiguous !== 0 && host !== nextContiguous) r.fragmented++;
        nextContiguous = host + cs;
      }
      if (h.extendedL2) {
        const zero = t.getUint32(at + 8);
        const alloc = t.getUint32(at + 12);
        if (zero & alloc) corruption(`${what} L2 entry for host ${host} has an invalid subcluster bitmap`);
      }
      if (host % cs !== 0) corruption(`${what} cluster offset ${host} is not cluster aligned`);
      inc(host, cs);
    }
  };

  await walkL1(h.l1TableOffset, h.l1Size, true, 'active');
  let snapshotsSize = 0;
  try {
    const snapshots = await readSnapshots(file, h);
    for (const s of snapshots) {
      await walkL1(s.l1TableOffset, s.l1Size, false, `snapshot ${s.id}`);
      snapshotsSize += s.entryLength;
    }
  } catch (e) {
    r.checkErrors++;
    say(`ERROR reading the snapshot table: ${e instanceof Error ? e.message : String(e)}`);
  }
  inc(h.snapshotsOffset, snapshotsSize);
  await walkBitmaps(h, readClamped, inc, corruption);
  inc(h.refcountTableOffset, rtEntries * 8);

  // Refcount blocks: aligned, inside the file, referenced exactly once.
  for (let i = 0; i < rtEntries; i++) {
    const off = u64(rt, i * 8) - (rt.getUint32(i * 8 + 4) & 0x1ff);
    if (off === 0 && rt.getUint32(i * 8 + 4) === 0) continue;
    if (!Number.isSafeInteger(off) || off % cs !== 0 || rt.getUint32(i * 8 + 4) & 0x1ff) {
      corruption(`refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
      continue;
    }
    if (off / cs >= nbClusters) {
      corruption(`refcount block ${i} is outside image`);
      continue;
    }
    inc(off, cs);
    if (computed.get(off / cs) !== 1) corruption(`refcount block ${i} refcount=${computed.get(off / cs)}`);
  }

  // Compare stored and computed counts over the file and anything referenced beyond it.
  // Clusters past the end of the file are compared only where something references them
  // (sparse: a hostile offset must not make us walk to 2^56).
  let highest = 0;
  const beyond = [...computed.beyond.keys()].sort((a, b) => a - b);
  const clusters = function* (): Generator<number> {
    for (let c = 0; c < nbClusters; c++) yield c;
    yield* beyond;
  };
  for (const c of clusters()) {
    const want = computed.get(c);
    const have = await stored(c);
    if (have === undefined) {
      r.checkErrors++;
      say(`Can't get refcount for cluster ${c}: unaligned refcount block`);
      continue;
    }
    if (have > 0 || want > 0) highest = c;
    if (have === want) continue;
    if (have < want) corruption(`cluster ${c} refcount=${have} reference=${want}`);
    else {
      r.leaks++;
      say(`Leaked cluster ${c} refcount=${have} reference=${want}`);
    }
  }

  // The copied flag (bit 63) of active L1 and L2 entries must say "refcount is exactly one".
  const l1 = new DataView((await readClamped(h.l1TableOffset, h.l1Size * 8)).buffer);
  for (let i = 0; i < h.l1Size; i++) {
    const hi1 = l1.getUint32(i * 8);
    const l2 = (hi1 & OFFSET_HI) * 2 ** 32 + ((l1.getUint32(i * 8 + 4) & OFFSET_LO) >>> 0);
    if (l2 === 0) continue;
    const rc = await stored(Math.floor(l2 / cs));
    if (rc !== undefined && (rc === 1) !== ((hi1 & 0x80000000) !== 0)) corruption(`OFLAG_COPIED L2 cluster: l1_index=${i} refcount=${rc}`);
    const t = new DataView((await readClamped(l2, cs)).buffer);
    for (let at = 0; at < cs; at += entryBytes) {
      const hi = t.getUint32(at);
      if (hi & 0x40000000) continue;
      const host = (hi & OFFSET_HI) * 2 ** 32 + ((t.getUint32(at + 4) & OFFSET_LO) >>> 0);
      if (host === 0) continue;
      const drc = await stored(Math.floor(host / cs));
      if (drc !== undefined && (drc === 1) !== ((hi & 0x80000000) !== 0)) corruption(`OFLAG_COPIED data cluster: host offset ${host} refcount=${drc}`);
    }
  }

  return {
    filename: file.name,
    format: 'qcow2',
    'check-errors': r.checkErrors,
    leaks: r.leaks,
    corruptions: r.corruptions,
    'image-end-offset': (highest + 1) * cs,
    'total-clusters': Math.ceil((Math.floor(h.size / 512) * 512) / cs),
    'allocated-clusters': r.allocated,
    'fragmented-clusters': r.fragmented,
    'compressed-clusters': r.compressed,
    dirty: h.dirty,
    messages,
  };
}

/** Bitmap directory, bitmap tables and their data clusters (qcow2.txt, "Bitmaps"). */
async function walkBitmaps(
  h: Qcow2Header,
  read: (offset: number, length: number) => Promise<Uint8Array>,
  inc: (offset: number, size: number) => void,
  corruption: (m: string) => void,
): Promise<void> {
  if (!h.bitmaps) return;
  const { directoryOffset, directorySize, count } = h.bitmaps;
  if (!Number.isSafeInteger(directorySize) || directorySize > 64 * 1024 * 1024) {
    corruption(`bitmap directory size ${directorySize} is too large`);
    return;
  }
  inc(directoryOffset, directorySize);
  const dir = await read(directoryOffset, directorySize);
  const v = new DataView(dir.buffer);
  let at = 0;
  for (let i = 0; i < count && at + 24 <= directorySize; i++) {
    const tableOffset = u64(v, at);
    const tableSize = v.getUint32(at + 8);
    const nameSize = v.getUint16(at + 18);
    const extra = v.getUint32(at + 20);
    if (tableSize * 8 > 64 * 1024 * 1024) {
      corruption(`bitmap ${i} table size ${tableSize} is too large`);
      return;
    }
    inc(tableOffset, tableSize * 8);
    const table = new DataView((await read(tableOffset, tableSize * 8)).buffer);
    for (let e = 0; e < tableSize; e++) {
      const data = (table.getUint32(e * 8) & OFFSET_HI) * 2 ** 32 + ((table.getUint32(e * 8 + 4) & OFFSET_LO) >>> 0);
      if (data > 1) inc(data, h.clusterSize);
    }
    at += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
}
