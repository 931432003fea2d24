/**
 * `disklab info [--backing-chain] [--output=human|json] IMG`: what qemu-img info prints.
 *
 * JSON has qemu-img's field names, values and (for the fields qemu prints) its key order:
 * virtual-size, filename, format ('vpc' for VHD, as qemu names it), actual-size (st_blocks *
 * 512), cluster-size (qcow2: the cluster size; dynamic/differencing VHD and VHDX: the block
 * size, as qemu prints for vpc and vhdx; none for raw and fixed VHD), backing-filename,
 * full-backing-filename, backing-filename-format, dirty-flag, and format-specific for qcow2
 * (compat, compression-type, lazy-refcounts, refcount-bits, corrupt, extended-l2). With
 * --backing-chain: a JSON array of one such object per file of the chain, top first (an array
 * even for a single file, as qemu does); human output prints one block per file, separated by a
 * blank line. A backing file's "filename" is its full-backing-filename, as qemu opens it.
 *
 * Beyond qemu-img (documented differences, checked by inspect.oracle.test.ts):
 * - "format-specific" for VHD (qemu prints none for vpc): a fixed VHD's footer fields (subformat,
 *   creator, sizes, geometry, unique id, time stamp); for dynamic/differencing VHD and VHDX our
 *   subformat, the chain (child first) and open warnings. qemu prints none for vhdx either.
 * - "partition-table": the MBR or GPT inside the image (problems are warnings, never failures).
 * - Differencing VHD and VHDX: qemu cannot open their parents (its vpc driver reads a
 *   differencing VHD as a stand-alone dynamic one, its vhdx driver refuses them), so there is no
 *   oracle. We print backing-filename = full-backing-filename = the parent file we opened: the
 *   child records several locators (relative, absolute, the bare name) and no single one is
 *   "the" stored name. No backing-filename-format: neither format records one (the parent is
 *   always of the child's format, which the chain's next entry states).
 * - qcow2 persistent bitmaps and internal snapshots: qemu lists them ("bitmaps" inside
 *   format-specific, "snapshots"); we do not yet. Images needing a backing file must have it
 *   (qemu-img info opens the top alone; we open the chain).
 */
import * as fs from 'node:fs';
import { chsSectors } from '../core/formats/vhd/geometry.ts';
import { formatUniqueId, vhdTimestampToDate, type VhdFooter } from '../core/formats/vhd/footer.ts';
import { openImage, type OpenedImage } from '../node/open-image.ts';
import { isHttpUrl } from '../node/open-url.ts';
import type { CliIo } from './io.ts';
import { readPartitionTable, type PartitionTable } from '../core/formats/partitions/partition-table.ts';
import { formatPartitionTable } from '../core/formats/partitions/format-table.ts';
import { humanSize } from './sizes.ts';
import { chainParts, partFileName } from './map-extents.ts';
import { Qcow2Layer } from '../core/formats/qcow2/qcow2-layer.ts';
import type { Qcow2Header } from '../core/formats/qcow2/header.ts';
import { VhdDifferencingLayer, VhdDynamicDisk } from '../core/formats/vhd/dynamic-disk.ts';
import { VhdxDisk, VhdxLayer } from '../core/formats/vhdx/disk.ts';

export interface InfoArgs {
  readonly image: string;
  readonly format?: string;
  readonly output: 'human' | 'json';
  readonly backingChain?: boolean;
}

/** qemu-img's name for each of our formats. */
export function qemuFormatName(format: OpenedImage['format']): string {
  return format === 'vhd' ? 'vpc' : format;
}

export interface ImageInfoJson {
  readonly 'backing-filename-format'?: string;
  readonly 'virtual-size': number;
  readonly filename: string;
  readonly 'cluster-size'?: number;
  readonly format: string;
  readonly 'actual-size': number;
  readonly 'format-specific'?: { readonly type: string; readonly data: Record<string, unknown> };
  readonly 'full-backing-filename'?: string;
  readonly 'backing-filename'?: string;
  readonly 'dirty-flag': boolean;
  readonly 'partition-table'?: Record<string, unknown>;
}

/** One file of a chain as qemu names it: `filename`, and its backing file if it has one. */
export interface ChainLink {
  readonly filename: string;
  readonly backing?: { readonly name: string; readonly full: string; readonly format?: string };
}

export async function infoCommand(args: InfoArgs, io: CliIo): Promise<number> {
  const infos: ImageInfoJson[] = [];
  const extras: string[] = [];
  let path: string | undefined = args.image;
  let format = args.format;
  while (path !== undefined) {
    const image = await openImage(path, { format, readOnly: true });
    try {
      const link = chainLinks(image)[0]!;
      const table = await readPartitionTable(image.disk);
      infos.push({ ...imageInfo(image, link), 'partition-table': partitionJson(table) });
      extras.push(humanStructured(image) + humanPartitions(table));
      path = args.backingChain ? link.backing?.full : undefined;
      // The recorded backing format (qcow2 keeps one), else detect: VHD and VHDX parents are of the child's format.
      format = link.backing?.format;
    } finally {
      await image.disk.close();
    }
  }
  if (args.output === 'json') {
    const value = args.backingChain ? infos : infos[0];
    io.stdout(`${JSON.stringify(value, null, 4)}\n`);
  } else {
    io.stdout(infos.map((info, i) => humanInfo(info) + extras[i]).join('\n'));
  }
  return 0;
}

/**
 * The chain's files as qemu names them: the top as given; a qcow2 backing file as qemu combines
 * the stored name with its child's directory (path_combine: no normalisation, so a relative top
 * gives relative backing names); a VHD/VHDX parent as the path we opened.
 */
export function chainLinks(image: OpenedImage): ChainLink[] {
  const parts = chainParts(image);
  const links: ChainLink[] = [];
  let filename = image.path;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    let backing: ChainLink['backing'];
    if (part instanceof Qcow2Layer) {
      const h = part.header;
      if (h.backingFile !== undefined) {
        const full = pathCombine(filename, h.backingFile);
        backing = h.backingFormat === undefined ? { name: h.backingFile, full } : { name: h.backingFile, full, format: h.backingFormat };
      }
    } else if (i + 1 < parts.length) {
      const parent = partFileName(parts[i + 1]);
      if (parent !== undefined) backing = { name: parent, full: parent };
    }
    links.push(backing === undefined ? { filename } : { filename, backing });
    if (backing === undefined) break;
    filename = backing.full;
  }
  return links;
}

/** QEMU's path_combine: an absolute name stands; a relative one is taken from the directory of `base`. */
export function pathCombine(base: string, name: string): string {
  if (name.startsWith('/')) return name;
  const slash = base.lastIndexOf('/');
  return slash < 0 ? name : base.slice(0, slash + 1) + name;
}

export function imageInfo(image: OpenedImage, link: ChainLink = chainLinks(image)[0]!): ImageInfoJson {
  // A URL has no allocated size on this machine: qemu-img prints 0 for its http driver too.
  const stat = isHttpUrl(image.path) ? { blocks: 0 } : fs.statSync(image.path);
  const top = chainParts(image)[0];
  const qcow2 = top instanceof Qcow2Layer ? top.header : undefined;
  const clusterSize = qcow2?.clusterSize ?? blockSizeOf(top);
  const b = link.backing;
  return {
    ...(b?.format === undefined ? {} : { 'backing-filename-format': b.format }),
    'virtual-size': image.disk.sectorCount() * image.disk.sectorSize,
    filename: link.filename,
    ...(clusterSize === undefined ? {} : { 'cluster-size': clusterSize }),
    format: qemuFormatName(image.format),
    'actual-size': stat.blocks * 512,
    ...formatSpecific(image, qcow2),
    ...(b === undefined ? {} : { 'full-backing-filename': b.full, 'backing-filename': b.name }),
    'dirty-flag': qcow2?.dirty ?? false,
  };
}

function blockSizeOf(part: unknown): number | undefined {
  if (part instanceof VhdDynamicDisk || part instanceof VhdDifferencingLayer) return part.image.header.blockSize;
  if (part instanceof VhdxDisk || part instanceof VhdxLayer) return part.image.metadata.blockSize;
  return undefined;
}

function formatSpecific(image: OpenedImage, qcow2: Qcow2Header | undefined): Pick<ImageInfoJson, 'format-specific'> {
  if (qcow2 !== undefined) return { 'format-specific': { type: 'qcow2', data: qcow2Data(qcow2) } };
  const structured = image.structured;
  if (structured !== undefined) {
    const data = { subformat: structured.subformat, chain: structured.chain, warnings: structured.warnings };
    return { 'format-specific': { type: qemuFormatName(image.format), data } };
  }
  if (image.vhdFooter === undefined) return {};
  return { 'format-specific': { type: 'vpc', data: vhdData(image.vhdFooter) } };
}

/** qemu's ImageInfoSpecificQCow2, in its order (v2 images print only compat, compression type and refcount bits). */
function qcow2Data(h: Qcow2Header): Record<string, unknown> {
  if (h.version === 2) return { compat: '0.10', 'compression-type': h.compressionType, 'refcount-bits': 2 ** h.refcountOrder };
  return {
    compat: '1.1',
    'compression-type': h.compressionType,
    'lazy-refcounts': (h.compatibleFeatures & 1n) !== 0n,
    'refcount-bits': 2 ** h.refcountOrder,
    corrupt: h.corrupt,
    'extended-l2': h.extendedL2,
  };
}

function partitionJson(t: PartitionTable): Record<string, unknown> {
  return {
    scheme: t.scheme,
    ...(t.diskGuid === undefined ? {} : { 'disk-guid': t.diskGuid }),
    ...(t.diskSignature === undefined ? {} : { 'disk-signature': t.diskSignature }),
    partitions: t.partitions.map((p) => ({
      index: p.index,
      start: p.startLba * t.sectorSize,
      length: p.sectors * t.sectorSize,
      type: p.type.kind === 'mbr' ? `0x${p.type.code.toString(16).padStart(2, '0')}` : p.type.guid,
      ...(p.type.name === undefined ? {} : { 'type-name': p.type.name }),
      ...(p.name === undefined ? {} : { name: p.name }),
      bootable: p.bootable,
    })),
    warnings: t.warnings,
  };
}

/** Our format-specific lines for VHD/VHDX chains (qcow2's are qemu's, printed by humanInfo). */
function humanStructured(image: OpenedImage): string {
  const s = image.structured;
  if (s === undefined || image.format === 'qcow2') return '';
  const lines = ['Format specific information:', `    subformat: ${s.subformat}`];
  if (s.chain.length > 1) lines.push(`    chain (child first): ${s.chain.join(' <- ')}`);
  for (const w of s.warnings) lines.push(`    warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

function humanPartitions(t: PartitionTable): string {
  if (t.scheme === 'none' && t.warnings.length === 0) return '';
  return `Partition table:\n${formatPartitionTable(t).replace(/^(?=.)/gm, '    ').trimEnd()}\n`;
}

function printable(fourCc: string): string {
  return [...fourCc].map((c) => (c === '\0' ? '\\0' : c)).join('');
}

function vhdData(f: VhdFooter): Record<string, unknown> {
  return {
    subformat: f.diskType,
    'creator-app': printable(f.creatorApplication),
    'creator-version': `${f.creatorVersion >>> 16}.${f.creatorVersion & 0xffff}`,
    'creator-host-os': printable(f.creatorHostOs),
    'current-size': f.currentSize,
    'original-size': f.originalSize,
    geometry: { cylinders: f.geometry.cylinders, heads: f.geometry.heads, 'sectors-per-track': f.geometry.sectorsPerTrack },
    'geometry-size': chsSectors(f.geometry) * 512,
    'unique-id': formatUniqueId(f.uniqueId),
    timestamp: vhdTimestampToDate(f.timestamp).toISOString(),
    'saved-state': f.savedState,
    features: f.features,
  };
}

/** qemu's bdrv_image_info_dump, line for line, then our fixed-VHD footer lines. */
function humanInfo(info: ImageInfoJson): string {
  const lines = [
    `image: ${info.filename}`,
    `file format: ${info.format}`,
    `virtual size: ${humanSize(info['virtual-size'])} (${info['virtual-size']} bytes)`,
    `disk size: ${humanSize(info['actual-size'])}`,
  ];
  if (info['cluster-size'] !== undefined) lines.push(`cluster_size: ${info['cluster-size']}`);
  if (info['dirty-flag']) lines.push('cleanly shut down: no');
  const name = info['backing-filename'];
  if (name !== undefined) {
    const full = info['full-backing-filename'];
    lines.push(`backing file: ${name}${full === undefined ? ' (cannot determine actual path)' : full === name ? '' : ` (actual path: ${full})`}`);
    if (info['backing-filename-format'] !== undefined) lines.push(`backing file format: ${info['backing-filename-format']}`);
  }
  const specific = info['format-specific'];
  if (specific?.type === 'qcow2') {
    lines.push('Format specific information:');
    for (const [k, v] of Object.entries(specific.data)) lines.push(`    ${k.replaceAll('-', ' ')}: ${String(v)}`);
  } else if (specific?.type === 'vpc' && specific.data['creator-app'] !== undefined) {
    const d = specific.data as { subformat: string; 'creator-app': string; 'creator-version': string; 'creator-host-os': string; 'current-size': number; 'original-size': number; geometry: { cylinders: number; heads: number; 'sectors-per-track': number }; 'geometry-size': number; 'unique-id': string; timestamp: string };
    const g = d.geometry;
    lines.push(
      'Format specific information:',
      `    subformat: ${d.subformat}`,
      `    creator: ${d['creator-app']} ${d['creator-version']} (${d['creator-host-os']})`,
      `    current size: ${d['current-size']} bytes`,
      `    original size: ${d['original-size']} bytes`,
      `    geometry (C/H/S): ${g.cylinders}/${g.heads}/${g['sectors-per-track']} (${d['geometry-size']} bytes)`,
      `    unique id: ${d['unique-id']}`,
      `    timestamp: ${d.timestamp}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
