/**
 * `disklab info`: what qemu-img info prints, for raw and VHD images.
 *
 * JSON has qemu-img's field names (virtual-size, filename, format, actual-size, dirty-flag), and
 * the format is named as qemu names it ('vpc' for VHD) so scripts written for qemu-img work.
 * For VHDs we add "format-specific": {"type": "vpc", "data": {...}} with the footer's fields
 * (qemu prints none for vpc): subformat, creator, both sizes, geometry and the size it implies,
 * unique id, timestamp. actual-size is the space the file occupies (st_blocks * 512), as in qemu.
 * Also beyond qemu-img: "partition-table", the MBR or GPT inside the image (CRCs checked, problems
 * listed as warnings, never a failure: a damaged table must not hide the image's other facts).
 */
import * as fs from 'node:fs';
import { chsSectors } from '../core/formats/vhd/geometry.ts';
import { formatUniqueId, vhdTimestampToDate, type VhdFooter } from '../core/formats/vhd/footer.ts';
import { openImage, type OpenedImage } from '../node/open-image.ts';
import type { CliIo } from './io.ts';
import { readPartitionTable, type PartitionTable } from '../core/formats/partitions/partition-table.ts';
import { formatPartitionTable } from '../core/formats/partitions/format-table.ts';
import { humanSize } from './sizes.ts';

export interface InfoArgs {
  readonly image: string;
  readonly format?: string;
  readonly output: 'human' | 'json';
}

/** qemu-img's name for each of our formats. */
export function qemuFormatName(format: OpenedImage['format']): string {
  return format === 'vhd' ? 'vpc' : format;
}

export async function infoCommand(args: InfoArgs, io: CliIo): Promise<number> {
  const image = await openImage(args.image, { format: args.format, readOnly: true });
  try {
    const table = await readPartitionTable(image.disk);
    const info = { ...imageInfo(image), 'partition-table': partitionJson(table) };
    io.stdout(args.output === 'json' ? `${JSON.stringify(info, null, 4)}\n` : humanInfo(info, image.vhdFooter) + humanStructured(image) + humanPartitions(table));
    return 0;
  } finally {
    await image.disk.close();
  }
}

export interface ImageInfoJson {
  readonly 'virtual-size': number;
  readonly filename: string;
  readonly format: string;
  readonly 'actual-size': number;
  readonly 'dirty-flag': boolean;
  readonly 'backing-filename'?: string;
  readonly 'format-specific'?: { readonly type: string; readonly data: Record<string, unknown> };
}

export function imageInfo(image: OpenedImage): ImageInfoJson {
  const stat = fs.statSync(image.path);
  const info: ImageInfoJson = {
    'virtual-size': image.disk.sectorCount() * image.disk.sectorSize,
    filename: image.path,
    format: qemuFormatName(image.format),
    'actual-size': stat.blocks * 512,
    'dirty-flag': false,
  };
  const structured = image.structured;
  if (structured !== undefined) {
    const data = { subformat: structured.subformat, chain: structured.chain, warnings: structured.warnings };
    const backing = structured.chain[1];
    return { ...info, ...(backing === undefined ? {} : { 'backing-filename': backing }), 'format-specific': { type: qemuFormatName(image.format), data } };
  }
  if (image.vhdFooter === undefined) return info;
  return { ...info, 'format-specific': { type: 'vpc', data: vhdData(image.vhdFooter) } };
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

function humanStructured(image: OpenedImage): string {
  const s = image.structured;
  if (s === undefined) return '';
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

function humanInfo(info: ImageInfoJson, footer: VhdFooter | undefined): string {
  const lines = [
    `image: ${info.filename}`,
    `file format: ${info.format}`,
    `virtual size: ${humanSize(info['virtual-size'])} (${info['virtual-size']} bytes)`,
    `disk size: ${humanSize(info['actual-size'])}`,
  ];
  if (footer !== undefined) {
    const g = footer.geometry;
    lines.push(
      'Format specific information:',
      `    subformat: ${footer.diskType}`,
      `    creator: ${printable(footer.creatorApplication)} ${footer.creatorVersion >>> 16}.${footer.creatorVersion & 0xffff} (${printable(footer.creatorHostOs)})`,
      `    current size: ${footer.currentSize} bytes`,
      `    original size: ${footer.originalSize} bytes`,
      `    geometry (C/H/S): ${g.cylinders}/${g.heads}/${g.sectorsPerTrack} (${chsSectors(g) * 512} bytes)`,
      `    unique id: ${formatUniqueId(footer.uniqueId)}`,
      `    timestamp: ${vhdTimestampToDate(footer.timestamp).toISOString()}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
