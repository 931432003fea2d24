/**
 * Opening qcow2 images.
 *
 * - `openQcow2Layer(file, options)`: one image as a `Qcow2Layer` (the active state, or the
 *   internal snapshot named by `options.snapshot`, matched by id first, then by name, as QEMU
 *   does), with its header, snapshot list and backing file name. Read-only unless
 *   `options.writable`.
 * - `openQcow2(file, options)`: the whole chain as a Disk: the image over its backing images
 *   (resolved by name through `options.resolveBacking`), stacked as a LayeredDisk, so
 *   unallocated clusters read from the backing image and past its end as zeroes. Backing files
 *   may be qcow2 (recursively), or raw or VHD at the bottom (backing-base.ts), by the recorded
 *   backing format or, without one, by content. With `writable`, only the top image is writable;
 *   its partial cluster writes copy the rest of the cluster from the chain below.
 *
 * Writable opening refuses (UNSUPPORTED) what the writer does not maintain: internal snapshots,
 * extended L2 entries, persistent bitmaps, and images whose dirty or corrupt bit is set (their
 * refcounts need `qemu-img check -r` first). Unknown autoclear feature bits are cleared, as the
 * specification asks of a writer that does not know them.
 *
 * Errors: CORRUPT_IMAGE naming the field; UNSUPPORTED for features this reader lacks (see
 * header.ts), for a backing file with no resolver, for an unsupported backing format, and for
 * chains deeper than `maxChainDepth` (a loop, most likely); READ_ONLY for a writable open of a
 * file that cannot be written. Files opened through the resolver are closed if opening the chain
 * fails; the caller's own file is not.
 */
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import { openDisk } from '../../disk/open-disk.ts';
import { LayeredDisk } from '../../layered/layered-disk.ts';
import type { Inflate } from '../../ports/inflate.ts';
import type { ImageFile } from '../image-file.ts';
import { ClusterMap } from './cluster-map.ts';
import { QCOW2_MAGIC, parseQcow2Header, type Qcow2Header } from './header.ts';
import { Qcow2Layer } from './qcow2-layer.ts';
import { findSnapshot, readSnapshots, type Qcow2Snapshot } from './snapshots.ts';
import { backingFormatOf, openBaseLayer } from './backing-base.ts';
import { Qcow2Refcounts } from './refcounts.ts';
import type { Layer } from '../../layered/layer.ts';

export interface Qcow2OpenOptions {
  readonly inflate: Inflate;
  /** Open this internal snapshot (id or name) instead of the active state. */
  readonly snapshot?: string;
  /** Logical sector size of the layer; default 512. */
  readonly sectorSize?: number;
  /** Opens a backing file by the name stored in the image (and its format, if recorded). */
  readonly resolveBacking?: (name: string, format: string | undefined) => Promise<ImageFile>;
  /** Longest backing chain accepted, counting the top image; default 64. */
  readonly maxChainDepth?: number;
  /** Open the (top) image read-write; the file must be writable. */
  readonly writable?: boolean;
}

export interface Qcow2Image {
  readonly layer: Qcow2Layer;
  readonly header: Qcow2Header;
  readonly snapshots: readonly Qcow2Snapshot[];
  /** The snapshot opened, if any. */
  readonly snapshot: Qcow2Snapshot | undefined;
}

export async function readQcow2Header(file: ImageFile): Promise<Qcow2Header> {
  const size = file.size();
  const first = new Uint8Array(Math.min(size, 2 ** 21));
  if (size < 72) throw new DiskError('CORRUPT_IMAGE', `${file.name}: ${size} bytes is too small for a qcow2 header`, { field: 'header' });
  await file.read(0, first.subarray(0, 72), 'header');
  const clusterBits = new DataView(first.buffer).getUint32(20);
  // Read only the first cluster (bounded by the file); parseQcow2Header validates cluster_bits.
  const want = clusterBits >= 9 && clusterBits <= 21 ? Math.min(size, 2 ** clusterBits) : 72;
  const head = first.subarray(0, want);
  await file.read(0, head, 'header');
  return parseQcow2Header(file.name, head, size);
}

export async function openQcow2Layer(file: ImageFile, options: Qcow2OpenOptions): Promise<Qcow2Image> {
  let header = await readQcow2Header(file);
  if (options.writable) header = await prepareWritable(file, header, options);
  const snapshots = await readSnapshots(file, header);
  let snapshot: Qcow2Snapshot | undefined;
  let l1Offset = header.l1TableOffset;
  let l1Size = header.l1Size;
  let size = header.size;
  if (options.snapshot !== undefined) {
    snapshot = findSnapshot(snapshots, options.snapshot);
    if (!snapshot) throw new DiskError('INVALID_INPUT', `${file.name}: no qcow2 snapshot with id or name '${options.snapshot}'`);
    l1Offset = snapshot.l1TableOffset;
    l1Size = snapshot.l1Size;
    size = snapshot.virtualSize;
  }
  const l1 = new Uint8Array(l1Size * 8);
  if (l1Size > 0) await file.read(l1Offset, l1, 'L1 table');
  const map = new ClusterMap(file, header, l1);
  const parts = {
    header,
    map,
    inflate: options.inflate,
    size,
    sectorSize: options.sectorSize ?? 512,
    name: file.name,
    dataBytes: 0,
    close: () => file.close(),
  };
  const probe = new Qcow2Layer(parts);
  let dataBytes = 0;
  for (const run of await probe.presence(0, probe.sectorCount())) if (run.state === 'data') dataBytes += run.count * probe.sectorSize;
  const writer = options.writable
    ? { file, header, map, l1, refcounts: await Qcow2Refcounts.open(file, header), inflate: options.inflate, size }
    : undefined;
  return { layer: new Qcow2Layer({ ...parts, dataBytes, ...(writer ? { writer } : {}) }), header, snapshots, snapshot };
}

/** Refuses what the writer cannot keep consistent, and clears unknown autoclear bits. */
async function prepareWritable(file: ImageFile, header: Qcow2Header, options: Qcow2OpenOptions): Promise<Qcow2Header> {
  if (!file.writable || !file.write || !file.flush) throw new DiskError('READ_ONLY', `${file.name}: the file is not writable; open the image read-only`);
  const refuse = (what: string): never => {
    throw new DiskError('UNSUPPORTED', `${file.name}: writing qcow2 images with ${what} is not supported; open it read-only`);
  };
  if (options.snapshot !== undefined) throw new DiskError('INVALID_INPUT', `${file.name}: an internal snapshot opens read-only`);
  if (header.nbSnapshots > 0) refuse('internal snapshots');
  if (header.extendedL2) refuse('extended L2 entries');
  if (header.bitmaps) refuse('persistent bitmaps');
  if (header.dirty || header.corrupt) refuse(`the ${header.dirty ? 'dirty' : 'corrupt'} bit set (run qemu-img check -r all first)`);
  if (header.version === 3 && header.autoclearFeatures !== 0n) {
    await file.write(88, new Uint8Array(8));
    await file.flush();
    return { ...header, autoclearFeatures: 0n };
  }
  return header;
}

/** Opens the image and its backing chain as one Disk (writable at the top with `options.writable`). */
export async function openQcow2(file: ImageFile, options: Qcow2OpenOptions): Promise<Disk> {
  const maxDepth = options.maxChainDepth ?? 64;
  const layers: Layer[] = [];
  const opened: ImageFile[] = [];
  try {
    const top = await openQcow2Layer(file, options);
    let image = top;
    layers.push(image.layer);
    while (image.header.backingFile !== undefined) {
      const { backingFile, backingFormat } = image.header;
      if (layers.length >= maxDepth) throw new DiskError('UNSUPPORTED', `${file.name}: qcow2 backing chain is deeper than ${maxDepth} images`);
      if (!options.resolveBacking) throw new DiskError('UNSUPPORTED', `${image.layer.name}: has backing file '${backingFile}' but no resolver was given`);
      const next = await options.resolveBacking(backingFile, backingFormat);
      opened.push(next);
      const format = await backingFormatOf(next, backingFormat, image.layer.name);
      if (format !== 'qcow2') {
        layers.push(await openBaseLayer(next, format, image.layer.name));
        break;
      }
      const magic = new Uint8Array(4);
      if (next.size() >= 4) await next.read(0, magic, 'magic');
      if (new DataView(magic.buffer).getUint32(0) !== QCOW2_MAGIC) {
        throw new DiskError('CORRUPT_IMAGE', `${image.layer.name}: backing file '${backingFile}' is recorded as qcow2 but is not`, { field: 'backing_format' });
      }
      image = await openQcow2Layer(next, { ...options, snapshot: undefined, writable: false });
      layers.push(image.layer);
    }
    if (layers.length > 1) top.layer.setBacking(new LayeredDisk(layers.slice(1).map((layer) => ({ layer }))));
    return openDisk(new LayeredDisk(layers.map((layer) => ({ layer }))));
  } catch (e) {
    for (const f of opened) await f.close().catch(() => undefined);
    throw e;
  }
}
