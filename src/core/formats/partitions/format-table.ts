/**
 * A human-readable listing of a PartitionTable in the spirit of `fdisk -l`, for `info`.
 * Pure; never throws. Sizes use binary units (K, M, G, T) like fdisk.
 */
import type { PartitionTable } from './partition-table.ts';

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 || v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
  return `${text}${units[u]}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

export function formatPartitionTable(table: PartitionTable): string {
  const lines: string[] = [];
  const bytes = table.diskSectors * table.sectorSize;
  lines.push(`Disk: ${human(bytes)}, ${bytes} bytes, ${table.diskSectors} sectors`);
  lines.push(`Sector size: ${table.sectorSize} bytes`);
  lines.push(`Disklabel type: ${table.scheme === 'mbr' ? 'dos' : table.scheme}`);
  if (table.diskSignature !== undefined) lines.push(`Disk identifier: 0x${hex(table.diskSignature, 8)}`);
  if (table.diskGuid !== undefined) lines.push(`Disk identifier: ${table.diskGuid}`);
  if (table.gpt && table.gpt.header === 'backup') lines.push('Using the backup GPT header');
  if (table.partitions.length > 0) {
    const rows: string[][] = [['#', 'Boot', 'Start', 'End', 'Sectors', 'Size', table.scheme === 'mbr' ? 'Id' : 'Name', 'Type']];
    for (const p of table.partitions) {
      const typeName = p.type.name ?? (p.type.kind === 'mbr' ? 'unknown' : p.type.guid);
      rows.push([
        String(p.index),
        p.bootable ? '*' : '',
        String(p.startLba),
        String(p.startLba + p.sectors - 1),
        String(p.sectors),
        human(p.sectors * table.sectorSize),
        p.type.kind === 'mbr' ? hex(p.type.code, 2) : (p.name ?? ''),
        typeName,
      ]);
    }
    const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
    // Numbers right-aligned, text left-aligned; the last column is not padded.
    const numeric = new Set([2, 3, 4, 5]);
    lines.push('');
    for (const r of rows) {
      lines.push(
        r
          .map((cell, c) => (c === r.length - 1 ? cell : numeric.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
          .join('  ')
          .trimEnd(),
      );
    }
  }
  if (table.warnings.length > 0) {
    lines.push('');
    for (const w of table.warnings) lines.push(`warning: ${w}`);
  }
  return lines.join('\n');
}
