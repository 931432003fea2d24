/**
 * The qcow2 header and its extensions (QEMU docs/interop/qcow2.txt, "Header" and "Header
 * extensions"), versions 2 and 3.
 *
 * `parseQcow2Header` reads from the first cluster's bytes (the caller reads up to one cluster)
 * and validates every field the reader relies on, treating the image as hostile: sizes and
 * counts are bounded before anyone allocates, offsets are checked to be aligned and inside the
 * file. Errors: `CORRUPT_IMAGE` naming the field; `UNSUPPORTED` for recognised features this
 * reader does not implement (encryption, external data files, zstd, unknown incompatible bits).
 */
import { DiskError } from '../../disk/errors.ts';

export const QCOW2_MAGIC = 0x514649fb;
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** QEMU's limits: 32 MiB of L1 table, 8 MiB of refcount table, 65536 snapshots. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFCOUNT_TABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;

export const INCOMPAT_DIRTY = 1;
export const INCOMPAT_CORRUPT = 2;
export const INCOMPAT_DATA_FILE = 4;
export const INCOMPAT_COMPRESSION = 8;
export const INCOMPAT_EXTL2 = 16;
const KNOWN_INCOMPAT = 0x1f;

const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_TABLE = 0x6803f857;
const EXT_BITMAPS = 0x23852875;
const EXT_CRYPTO = 0x0537be77;
const EXT_DATA_FILE = 0x44415441;

export interface FeatureName {
  readonly type: 'incompatible' | 'compatible' | 'autoclear';
  readonly bit: number;
  readonly name: string;
}

export interface Qcow2Header {
  readonly version: 2 | 3;
  readonly backingFileOffset: number;
  readonly backingFileSize: number;
  readonly clusterBits: number;
  readonly clusterSize: number;
  /** Virtual size in bytes. */
  readonly size: number;
  readonly cryptMethod: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
  readonly nbSnapshots: number;
  readonly snapshotsOffset: number;
  /** Low 32 bits of each feature bitmap (no bit above 4 is defined; higher unknown bits are rejected). */
  readonly incompatibleFeatures: number;
  readonly compatibleFeatures: bigint;
  readonly autoclearFeatures: bigint;
  readonly refcountOrder: number;
  readonly headerLength: number;
  readonly compressionType: 'zlib';
  readonly dirty: boolean;
  readonly corrupt: boolean;
  readonly extendedL2: boolean;
  readonly backingFile: string | undefined;
  readonly backingFormat: string | undefined;
  readonly featureNames: readonly FeatureName[];
  /** The bitmaps extension, recognised and otherwise ignored (the check walks it). */
  readonly bitmaps: { readonly count: number; readonly directorySize: number; readonly directoryOffset: number } | undefined;
}

function corrupt(name: string, field: string, why: string): never {
  throw new DiskError('CORRUPT_IMAGE', `${name}: qcow2 ${field} ${why}`, { field });
}

/** A big-endian u64 as a number; values past 2^53 come back as Infinity so bound checks reject them. */
export function u64(view: DataView, at: number): number {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
}

function text(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** `first` holds the file's first min(cluster, file size) bytes (at least 72). */
export function parseQcow2Header(name: string, first: Uint8Array, fileSize: number): Qcow2Header {
  if (first.length < 72) corrupt(name, 'header', `needs 72 bytes, the file has ${first.length}`);
  const v = new DataView(first.buffer, first.byteOffset, first.byteLength);
  if (v.getUint32(0) !== QCOW2_MAGIC) corrupt(name, 'magic', 'is not QFI\\xfb');
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) throw new DiskError('UNSUPPORTED', `${name}: qcow2 version ${version} is not supported (only 2 and 3)`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) corrupt(name, 'cluster_bits', `${clusterBits} is outside 9..21`);
  const clusterSize = 2 ** clusterBits;
  const size = u64(v, 24);
  if (!Number.isSafeInteger(size)) corrupt(name, 'size', 'is past 2^53 bytes');
  const cryptMethod = v.getUint32(32);
  if (cryptMethod !== 0) throw new DiskError('UNSUPPORTED', `${name}: encrypted qcow2 images are not supported`);
  const l1Size = v.getUint32(36);
  const l1TableOffset = u64(v, 40);
  const refcountTableOffset = u64(v, 48);
  const refcountTableClusters = v.getUint32(56);
  const nbSnapshots = v.getUint32(60);
  const snapshotsOffset = u64(v, 64);

  let incompat = 0;
  let compatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  let refcountOrder = 4;
  let headerLength = 72;
  if (version === 3) {
    if (first.length < 104) corrupt(name, 'header_length', 'the file ends inside the v3 header');
    const hi = v.getUint32(72);
    incompat = v.getUint32(76);
    compatibleFeatures = v.getBigUint64(80);
    autoclearFeatures = v.getBigUint64(88);
    refcountOrder = v.getUint32(96);
    headerLength = v.getUint32(100);
    if (hi !== 0 || (incompat & ~KNOWN_INCOMPAT) !== 0) {
      const bits: number[] = [];
      for (let b = 0; b < 32; b++) if ((hi >>> b) & 1) bits.push(b + 32);
      for (let b = 5; b < 32; b++) if ((incompat >>> b) & 1) bits.push(b);
      const names = featureTable(name, first, v, version, headerLength, clusterSize);
      const label = bits.map((b) => names.find((f) => f.type === 'incompatible' && f.bit === b)?.name ?? `bit ${b}`);
      throw new DiskError('UNSUPPORTED', `${name}: qcow2 image uses unknown incompatible features: ${label.join(', ')}`);
    }
    if (refcountOrder > 6) corrupt(name, 'refcount_order', `${refcountOrder} is above 6`);
    if (headerLength < 104 || headerLength % 8 !== 0 || headerLength > Math.min(first.length, clusterSize)) {
      corrupt(name, 'header_length', `${headerLength} is not a multiple of 8 in [104, cluster size]`);
    }
  }
  if (incompat & INCOMPAT_DATA_FILE) throw new DiskError('UNSUPPORTED', `${name}: qcow2 images with an external data file are not supported`);
  if (incompat & INCOMPAT_COMPRESSION) {
    const type = headerLength > 104 ? first[104]! : 0;
    const label = type === 1 ? 'zstd' : `type ${type}`;
    throw new DiskError('UNSUPPORTED', `${name}: qcow2 compression ${label} is not supported (only zlib)`);
  }
  if (headerLength > 104 && first[104] !== 0) corrupt(name, 'compression_type', 'is non-zero without the compression type feature bit');
  const extendedL2 = (incompat & INCOMPAT_EXTL2) !== 0;
  if (extendedL2 && clusterBits < 14) corrupt(name, 'cluster_bits', 'is below 14 with extended L2 entries');

  const aligned = (field: string, offset: number, length: number): void => {
    if (offset % clusterSize !== 0) corrupt(name, field, `${offset} is not cluster aligned`);
    if (offset + length > fileSize) corrupt(name, field, `${offset} (+${length} bytes) lies past the end of the ${fileSize}-byte file`);
  };
  if (l1Size * 8 > MAX_L1_BYTES) corrupt(name, 'l1_size', `${l1Size} entries exceed ${MAX_L1_BYTES} bytes`);
  const l2Entries = clusterSize / (extendedL2 ? 16 : 8);
  const guestClusters = Math.ceil(size / clusterSize);
  if (l1Size < Math.ceil(guestClusters / l2Entries)) corrupt(name, 'l1_size', `${l1Size} is too small for a ${size}-byte disk`);
  if (l1Size > 0) aligned('l1_table_offset', l1TableOffset, l1Size * 8);
  if (refcountTableClusters * clusterSize > MAX_REFCOUNT_TABLE_BYTES) corrupt(name, 'refcount_table_clusters', `${refcountTableClusters} is too large`);
  aligned('refcount_table_offset', refcountTableOffset, refcountTableClusters * clusterSize);
  if (nbSnapshots > MAX_SNAPSHOTS) corrupt(name, 'nb_snapshots', `${nbSnapshots} exceeds ${MAX_SNAPSHOTS}`);
  if (nbSnapshots > 0) aligned('snapshots_offset', snapshotsOffset, 0);

  let backingFile: string | undefined;
  const backingFileOffset = u64(v, 8);
  const backingFileSize = v.getUint32(16);
  if (backingFileOffset !== 0) {
    if (backingFileSize > 1023) corrupt(name, 'backing_file_size', `${backingFileSize} exceeds 1023 bytes`);
    if (backingFileOffset + backingFileSize > Math.min(clusterSize, first.length)) corrupt(name, 'backing_file_offset', 'lies outside the first cluster');
    backingFile = text(first.subarray(backingFileOffset, backingFileOffset + backingFileSize));
  }

  let backingFormat: string | undefined;
  let bitmaps: Qcow2Header['bitmaps'];
  const featureNames = featureTable(name, first, v, version, headerLength, clusterSize);
  forEachExtension(name, first, v, version, headerLength, clusterSize, (type, at, len) => {
    if (type === EXT_BACKING_FORMAT) backingFormat = text(first.subarray(at, at + len));
    else if (type === EXT_DATA_FILE) throw new DiskError('UNSUPPORTED', `${name}: qcow2 images with an external data file are not supported`);
    else if (type === EXT_CRYPTO) throw new DiskError('UNSUPPORTED', `${name}: encrypted qcow2 images are not supported`);
    else if (type === EXT_BITMAPS) {
      if (len < 24) corrupt(name, 'bitmaps extension', `length ${len} is below 24`);
      bitmaps = { count: v.getUint32(at), directorySize: u64(v, at + 8), directoryOffset: u64(v, at + 16) };
    }
  });

  return {
    version,
    backingFileOffset,
    backingFileSize,
    clusterBits,
    clusterSize,
    size,
    cryptMethod,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots,
    snapshotsOffset,
    incompatibleFeatures: incompat,
    compatibleFeatures,
    autoclearFeatures,
    refcountOrder,
    headerLength,
    compressionType: 'zlib',
    dirty: (incompat & INCOMPAT_DIRTY) !== 0,
    corrupt: (incompat & INCOMPAT_CORRUPT) !== 0,
    extendedL2,
    backingFile,
    backingFormat,
    featureNames,
    bitmaps,
  };
}

/** Walks the extension area after the header; bounded by the first cluster, at most 1 + cluster/8 steps. */
function forEachExtension(
  name: string,
  first: Uint8Array,
  v: DataView,
  version: number,
  headerLength: number,
  clusterSize: number,
  visit: (type: number, at: number, length: number) => void,
): void {
  if (version === 2 && first.length < 72) return;
  const end = Math.min(first.length, clusterSize);
  let at = headerLength;
  while (at + 8 <= end) {
    const type = v.getUint32(at);
    const len = v.getUint32(at + 4);
    if (type === EXT_END) return;
    if (at + 8 + len > end) corrupt(name, 'header extension', `0x${type.toString(16)} of ${len} bytes runs past the first cluster`);
    visit(type, at + 8, len);
    at += 8 + Math.ceil(len / 8) * 8;
  }
}

function featureTable(name: string, first: Uint8Array, v: DataView, version: number, headerLength: number, clusterSize: number): FeatureName[] {
  const out: FeatureName[] = [];
  const safeLength = version === 3 && (headerLength < 104 || headerLength % 8 !== 0) ? -1 : headerLength;
  if (safeLength < 0) return out;
  forEachExtension(name, first, v, version, safeLength, clusterSize, (type, at, len) => {
    if (type !== EXT_FEATURE_TABLE) return;
    for (let e = at; e + 48 <= at + len; e += 48) {
      const kind = first[e]!;
      const raw = first.subarray(e + 2, e + 48);
      const nul = raw.indexOf(0);
      out.push({
        type: kind === 0 ? 'incompatible' : kind === 1 ? 'compatible' : 'autoclear',
        bit: first[e + 1]!,
        name: text(nul < 0 ? raw : raw.subarray(0, nul)),
      });
    }
  });
  return out;
}
