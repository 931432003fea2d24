/**
 * `createQcow2(file, size, options)`: writes a new, empty qcow2 v3 image into an empty
 * `ImageFile`, laid out as `qemu-img create -f qcow2` lays it out: the header (112 bytes, zlib
 * compression type) with its extensions and the backing file name in cluster 0, the refcount
 * table from cluster 1, its refcount blocks after it, then the L1 table; the file ends where the
 * L1 table ends. Defaults: 64 KiB clusters, 16-bit refcounts (refcount_order 4).
 *
 * With `backingFile`, the name is stored after the header extensions, and `backingFormat`
 * (qcow2, raw or vpc: QEMU's names) in the backing format extension.
 *
 * Errors: DiskConfigError (INVALID_PARAMETER naming the option) for a cluster size that is not
 * a power of two in 512..2 MiB, a size that is not a multiple of 512 or needs an L1 table past
 * QEMU's 32 MiB, a backing name over 1023 bytes or an unknown backing format; the file's
 * DiskErrors while writing.
 */
import { DiskConfigError, DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { MAX_CLUSTER_BITS, MAX_L1_BYTES, MIN_CLUSTER_BITS, QCOW2_MAGIC } from './header.ts';

export const DEFAULT_CLUSTER_SIZE = 65536;
export const QCOW2_BACKING_FORMATS = ['qcow2', 'raw', 'vpc'] as const;

export interface Qcow2CreateOptions {
  readonly clusterSize?: number;
  readonly backingFile?: string;
  readonly backingFormat?: string;
}

const HEADER_LENGTH = 112;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_TABLE = 0x6803f857;
const FEATURES: ReadonlyArray<[number, number, string]> = [
  [0, 0, 'dirty bit'],
  [0, 1, 'corrupt bit'],
  [0, 2, 'external data file'],
  [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'],
  [1, 0, 'lazy refcounts'],
  [2, 0, 'bitmaps'],
  [2, 1, 'raw external data'],
];

export async function createQcow2(file: ImageFile, size: number, options: Qcow2CreateOptions = {}): Promise<void> {
  const cs = options.clusterSize ?? DEFAULT_CLUSTER_SIZE;
  const bits = Math.log2(cs);
  if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
    throw new DiskConfigError('INVALID_PARAMETER', 'cluster_size', `qcow2 cluster size ${cs} must be a power of two between 512 and 2 MiB`, { value: cs });
  }
  if (!Number.isSafeInteger(size) || size < 0 || size % 512 !== 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `qcow2 image size ${size} must be a non-negative multiple of 512 bytes`, { value: size });
  }
  const l1Size = Math.ceil(size / (cs * (cs / 8)));
  if (l1Size * 8 > MAX_L1_BYTES) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `a ${size}-byte qcow2 image with ${cs}-byte clusters needs an L1 table over ${MAX_L1_BYTES} bytes; use larger clusters`, { value: size });
  }
  if (!file.write) throw new DiskError('READ_ONLY', `${file.name}: cannot create an image in a read-only file`);

  const header = new Uint8Array(cs);
  const v = new DataView(header.buffer);
  let at = HEADER_LENGTH;
  const format = options.backingFormat;
  if (format !== undefined) {
    if (options.backingFile === undefined) throw new DiskConfigError('INVALID_PARAMETER', 'backing_fmt', 'a backing format needs a backing file', { value: format });
    if (!(QCOW2_BACKING_FORMATS as readonly string[]).includes(format)) {
      throw new DiskConfigError('INVALID_PARAMETER', 'backing_fmt', `backing format '${format}' is not one of ${QCOW2_BACKING_FORMATS.join(', ')}`, { value: format });
    }
    at = extension(header, at, EXT_BACKING_FORMAT, new TextEncoder().encode(format));
  }
  const name = new TextEncoder().encode(options.backingFile ?? '');
  if (options.backingFile !== undefined && (name.length === 0 || name.length > 1023)) {
    throw new DiskConfigError('INVALID_PARAMETER', 'backing_file', `backing file name must be 1..1023 bytes (got ${name.length})`, { value: options.backingFile });
  }
  const table = new Uint8Array(FEATURES.length * 48);
  // The feature name table is optional: left out when it would not fit a small first cluster.
  if (at + 8 + table.length + 8 + name.length <= cs) {
    FEATURES.forEach(([type, bit, label], i) => {
      table[i * 48] = type;
      table[i * 48 + 1] = bit;
      table.set(new TextEncoder().encode(label), i * 48 + 2);
    });
    at = extension(header, at, EXT_FEATURE_TABLE, table);
  }
  at += 8; // end-of-extensions marker (zeroes)
  if (at + name.length > cs) {
    throw new DiskConfigError('INVALID_PARAMETER', 'backing_file', `backing file name of ${name.length} bytes does not fit a ${cs}-byte first cluster`, { value: options.backingFile });
  }
  if (options.backingFile !== undefined) {
    header.set(name, at);
    setU64(v, 8, at);
    v.setUint32(16, name.length);
  }

  // Refcount table, blocks and L1 until the blocks cover every cluster in use (a fixed point).
  const perBlock = (cs * 8) / 16;
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const used = 1 + tableClusters + blocks + Math.max(1, l1Clusters);
    const needBlocks = Math.ceil(used / perBlock);
    const needTable = Math.ceil((needBlocks * 8) / cs);
    if (needBlocks === blocks && needTable === tableClusters) break;
    blocks = Math.max(blocks, needBlocks);
    tableClusters = Math.max(tableClusters, needTable);
  }
  const tableAt = 1;
  const blocksAt = tableAt + tableClusters;
  const l1At = blocksAt + blocks;
  const used = l1At + Math.max(1, l1Clusters);

  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, 3);
  v.setUint32(20, bits);
  setU64(v, 24, size);
  v.setUint32(36, l1Size);
  setU64(v, 40, l1At * cs);
  setU64(v, 48, tableAt * cs);
  v.setUint32(56, tableClusters);
  v.setUint32(96, 4); // refcount_order: 16-bit refcounts
  v.setUint32(100, HEADER_LENGTH);

  const rt = new DataView(new ArrayBuffer(tableClusters * cs));
  for (let b = 0; b < blocks; b++) setU64(rt, b * 8, (blocksAt + b) * cs);
  const rb = new DataView(new ArrayBuffer(blocks * cs));
  for (let c = 0; c < used; c++) rb.setUint16(c * 2, 1);

  await file.write(0, header);
  await file.write(tableAt * cs, new Uint8Array(rt.buffer));
  await file.write(blocksAt * cs, new Uint8Array(rb.buffer));
  // The file ends with the L1 table (all zeroes), as QEMU's does.
  await file.write(l1At * cs, new Uint8Array(Math.max(8, l1Size * 8)));
  await file.flush?.();
}

function extension(header: Uint8Array, at: number, type: number, data: Uint8Array): number {
  const v = new DataView(header.buffer);
  v.setUint32(at, type);
  v.setUint32(at + 4, data.length);
  header.set(data, at + 8);
  return at + 8 + Math.ceil(data.length / 8) * 8;
}

function setU64(v: DataView, at: number, value: number): void {
  v.setUint32(at, Math.floor(value / 0x100000000));
  v.setUint32(at + 4, value % 0x100000000);
}
