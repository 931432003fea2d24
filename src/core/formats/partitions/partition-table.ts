/**
 * Partition tables (MBR and GPT) read from a Disk: what `info` shows and what the lab uses to name
 * the regions of an image.
 *
 * Promise: `readPartitionTable(disk)` reads only through `disk.read` (whole logical sectors),
 * never reads outside the disk and never allocates more than about 1 MiB, whatever the bytes say.
 *
 * Errors, by design: a damaged or hostile table must not make a disk unopenable, so nothing about
 * the table's *content* throws. Every problem (bad signature, CRC mismatch, field out of range,
 * EBR loop, sector that cannot be read) becomes a human-readable entry in `warnings`, and the
 * result holds whatever could be trusted: `scheme` says which table was recognised (a GPT whose
 * both headers are bad is still `gpt`, with no partitions and warnings), `none` means no table.
 * Only `ABORTED` from the disk is rethrown, since it means the caller gave up.
 *
 * Numbering follows fdisk: MBR primaries 1-4, logical partitions 5 and up in chain order; GPT
 * partitions are numbered by their slot in the entry array (slot 0 is partition 1).
 */
import type { Disk } from '../../disk/disk.ts';
import { readMbr } from './mbr.ts';
import { readGpt } from './gpt.ts';
import { readSectors } from './read-sectors.ts';
import { MBR_GPT_PROTECTIVE } from './partition-types.ts';

export type PartitionScheme = 'mbr' | 'gpt' | 'none';

export type PartitionType =
  | { readonly kind: 'mbr'; readonly code: number; readonly name: string | undefined }
  | { readonly kind: 'gpt'; readonly guid: string; readonly name: string | undefined };

export interface Partition {
  /** 1-based, as fdisk numbers them (see module doc). */
  readonly index: number;
  readonly type: PartitionType;
  /** GPT partition name (UTF-16LE on disk); undefined for MBR. */
  readonly name: string | undefined;
  /** In logical sectors of the disk (GPT and MBR LBAs both count logical sectors). */
  readonly startLba: number;
  readonly sectors: number;
  /** MBR: boot indicator 0x80. GPT: attribute bit 2 (legacy BIOS bootable). */
  readonly bootable: boolean;
  /** GPT unique partition GUID, canonical upper-case text; undefined for MBR. */
  readonly partitionGuid: string | undefined;
  /** GPT attribute bits as 16 hex digits; undefined for MBR. */
  readonly attributes: string | undefined;
  /** MBR: inside the extended partition (from the EBR chain). */
  readonly logical: boolean;
}

export interface GptInfo {
  /** Which header the partitions came from: `backup` when the primary was unusable. */
  readonly header: 'primary' | 'backup';
  readonly revision: number;
  readonly headerLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
}

export interface PartitionTable {
  readonly scheme: PartitionScheme;
  readonly sectorSize: number;
  readonly diskSectors: number;
  /** MBR disk signature (bytes 440-443, little-endian); undefined for GPT and none. */
  readonly diskSignature: number | undefined;
  /** GPT disk GUID; undefined for MBR and none. */
  readonly diskGuid: string | undefined;
  readonly partitions: readonly Partition[];
  readonly gpt: GptInfo | undefined;
  readonly warnings: readonly string[];
}

export async function readPartitionTable(disk: Disk): Promise<PartitionTable> {
  const warnings: string[] = [];
  const base = { sectorSize: disk.sectorSize, diskSectors: disk.sectorCount() };
  const none: PartitionTable = { ...base, scheme: 'none', diskSignature: undefined, diskGuid: undefined, partitions: [], gpt: undefined, warnings };
  if (base.diskSectors === 0) return none;
  const sector0 = await readSectors(disk, 0, 1, warnings, 'MBR');
  if (!sector0) return none;
  const hasMbr = sector0[510] === 0x55 && sector0[511] === 0xaa;
  let protective = false;
  if (hasMbr) {
    for (let i = 0; i < 4; i++) if (sector0[446 + 16 * i + 4] === MBR_GPT_PROTECTIVE) protective = true;
  }
  if (protective || !hasMbr) {
    // Without an MBR signature a GPT is still worth looking for (some tools omit the protective
    // MBR); with a plain MBR we trust the MBR, as fdisk does.
    const quiet: string[] = [];
    const gpt = await readGpt(disk, protective ? warnings : quiet);
    if (gpt) {
      if (!protective) warnings.push('GPT found without a protective MBR', ...quiet);
      return { ...base, scheme: 'gpt', diskSignature: undefined, diskGuid: gpt.diskGuid, partitions: gpt.partitions, gpt: gpt.info, warnings };
    }
    if (!hasMbr) return none;
    warnings.push('protective MBR present but no usable GPT header (primary or backup)');
    return { ...base, scheme: 'gpt', diskSignature: undefined, diskGuid: undefined, partitions: [], gpt: undefined, warnings };
  }
  const mbr = await readMbr(disk, sector0, warnings);
  return { ...base, scheme: 'mbr', diskSignature: mbr.diskSignature, diskGuid: undefined, partitions: mbr.partitions, gpt: undefined, warnings };
}
