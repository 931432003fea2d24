/**
 * MBR (DOS) partition table: four primary entries in sector 0 and, for the first extended
 * partition, the chain of EBRs holding logical partitions. CHS fields are ignored; the LBA fields
 * are used. The chain walk is bounded (at most MAX_LOGICAL partitions, each EBR visited once, every
 * EBR inside the extended partition), so a hostile chain ends with a warning, never a hang.
 * Problems are warnings (see partition-table.ts); nothing here throws except ABORTED reads.
 */
import type { Disk } from '../../disk/disk.ts';
import type { Partition } from './partition-table.ts';
import { MBR_EXTENDED_TYPES, mbrTypeName } from './partition-types.ts';
import { readSectors, u32 } from './read-sectors.ts';

export const MAX_LOGICAL = 128;

interface RawEntry {
  readonly status: number;
  readonly code: number;
  readonly start: number;
  readonly sectors: number;
}

function entry(b: Uint8Array, slot: number): RawEntry {
  const at = 446 + 16 * slot;
  return { status: b[at] ?? 0, code: b[at + 4] ?? 0, start: u32(b, at + 8), sectors: u32(b, at + 12) };
}

function partition(index: number, e: RawEntry, start: number, logical: boolean): Partition {
  return {
    index,
    type: { kind: 'mbr', code: e.code, name: mbrTypeName(e.code) },
    name: undefined,
    startLba: start,
    sectors: e.sectors,
    bootable: e.status === 0x80,
    partitionGuid: undefined,
    attributes: undefined,
    logical,
  };
}

export async function readMbr(disk: Disk, sector0: Uint8Array, warnings: string[]): Promise<{ diskSignature: number; partitions: Partition[] }> {
  const total = disk.sectorCount();
  const partitions: Partition[] = [];
  let extended: Partition | undefined;
  for (let slot = 0; slot < 4; slot++) {
    const e = entry(sector0, slot);
    if (e.code === 0) continue;
    const index = slot + 1;
    if (e.status !== 0 && e.status !== 0x80) warnings.push(`partition ${index}: invalid boot indicator 0x${e.status.toString(16)}`);
    if (e.sectors === 0 || e.start === 0) {
      warnings.push(`partition ${index}: ${e.sectors === 0 ? 'has zero sectors' : 'starts at LBA 0'}; ignored`);
      continue;
    }
    const p = partition(index, e, e.start, false);
    partitions.push(p);
    if (MBR_EXTENDED_TYPES.has(e.code)) {
      if (extended) warnings.push(`partition ${index}: more than one extended partition; only partition ${extended.index} is followed`);
      else extended = p;
    }
  }
  if (extended) partitions.push(...(await readLogical(disk, extended, warnings)));
  for (const p of partitions) {
    if (p.startLba + p.sectors > total) warnings.push(`partition ${p.index}: ends at LBA ${p.startLba + p.sectors - 1}, beyond the disk's last LBA ${total - 1}`);
  }
  warnOverlaps(partitions, warnings);
  return { diskSignature: u32(sector0, 440), partitions };
}

async function readLogical(disk: Disk, ext: Partition, warnings: string[]): Promise<Partition[]> {
  const extStart = ext.startLba;
  const extEnd = extStart + ext.sectors; // exclusive
  const out: Partition[] = [];
  const visited = new Set<number>();
  let ebrLba = extStart;
  const maxSteps = MAX_LOGICAL * 2;
  let step = 0;
  // Each iteration visits a new EBR inside the extended partition. Bounded twice over: MAX_LOGICAL
  // partitions, and maxSteps EBRs in all (a chain of EBRs with empty first entries holds none).
  for (; step < maxSteps; step++) {
    if (visited.has(ebrLba)) {
      warnings.push(`EBR chain loops back to LBA ${ebrLba}; chain ends there`);
      break;
    }
    visited.add(ebrLba);
    if (ebrLba < extStart || ebrLba >= extEnd) {
      warnings.push(`EBR at LBA ${ebrLba} lies outside extended partition ${ext.index}; chain ends there`);
      break;
    }
    const b = await readSectors(disk, ebrLba, 1, warnings, 'EBR');
    if (!b) break;
    if (b[510] !== 0x55 || b[511] !== 0xaa) {
      warnings.push(`EBR at LBA ${ebrLba} has no 0x55AA signature; chain ends there`);
      break;
    }
    const here = entry(b, 0);
    const link = entry(b, 1);
    if (here.code !== 0) {
      const index = 5 + out.length;
      if (here.sectors === 0) warnings.push(`EBR at LBA ${ebrLba}: logical partition has zero sectors; ignored`);
      else if (MBR_EXTENDED_TYPES.has(here.code)) warnings.push(`EBR at LBA ${ebrLba}: first entry is an extended type; ignored`);
      else {
        if (here.status !== 0 && here.status !== 0x80) warnings.push(`partition ${index}: invalid boot indicator 0x${here.status.toString(16)}`);
        const p = partition(index, here, ebrLba + here.start, true);
        if (p.startLba + p.sectors > extEnd) warnings.push(`partition ${index}: extends beyond extended partition ${ext.index}`);
        out.push(p);
        if (out.length >= MAX_LOGICAL) {
          if (link.code !== 0) warnings.push(`more than ${MAX_LOGICAL} logical partitions; the rest are ignored`);
          break;
        }
      }
    }
    if (link.code === 0) break;
    if (!MBR_EXTENDED_TYPES.has(link.code)) {
      warnings.push(`EBR at LBA ${ebrLba}: link entry has non-extended type 0x${link.code.toString(16)}; chain ends there`);
      break;
    }
    ebrLba = extStart + link.start;
  }
  if (step === maxSteps) warnings.push(`EBR chain longer than ${maxSteps} EBRs; the rest is ignored`);
  return out;
}

/** Warns once per overlapping pair of data partitions (the extended container is excluded). */
export function warnOverlaps(partitions: readonly Partition[], warnings: string[]): void {
  const data = partitions
    .filter((p) => !(p.type.kind === 'mbr' && MBR_EXTENDED_TYPES.has(p.type.code)))
    .slice()
    .sort((a, b) => a.startLba - b.startLba);
  let furthest: Partition | undefined;
  for (const p of data) {
    if (furthest && p.startLba < furthest.startLba + furthest.sectors) {
      warnings.push(`partition ${p.index} overlaps partition ${furthest.index}`);
    }
    if (!furthest || p.startLba + p.sectors > furthest.startLba + furthest.sectors) furthest = p;
  }
}
