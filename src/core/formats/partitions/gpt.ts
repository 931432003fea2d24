/**
 * GPT: header at LBA 1 (backup at the last LBA), entry array, both CRC-32s validated. All LBAs
 * count logical sectors, so 512- and 4096-byte disks work alike.
 *
 * If the primary header or its entry array is unusable, the backup header (at the disk's last LBA,
 * else at the primary's alternate LBA) is used with a warning. When the primary is good, the
 * backup is checked too and a warning says if it is missing or damaged. Sizes are bounded before
 * reading: header size <= one sector, entry size 128..4096 (multiple of 8), count * size <=
 * MAX_TABLE_BYTES. Returns undefined when no header is usable; problems are warnings.
 */
import type { Disk } from '../../disk/disk.ts';
import type { GptInfo, Partition } from './partition-table.ts';
import { crc32 } from './crc32.ts';
import { formatGuid, gptTypeName } from './partition-types.ts';
import { MAX_TABLE_BYTES, readSectors, u32, u64 } from './read-sectors.ts';
import { warnOverlaps } from './mbr.ts';

const SIGNATURE = 'EFI PART';
const MIN_HEADER = 92;

interface Header {
  readonly revision: number;
  readonly myLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entriesCrc: number;
}

export interface GptResult {
  readonly diskGuid: string;
  readonly partitions: Partition[];
  readonly info: GptInfo;
}

/** Parses and validates the header at `lba`; returns the reason it is unusable as a string. */
function parseHeader(b: Uint8Array, lba: number, sectorSize: number, total: number): Header | string {
  for (let i = 0; i < 8; i++) if (b[i] !== SIGNATURE.charCodeAt(i)) return 'no "EFI PART" signature';
  const headerSize = u32(b, 12);
  if (headerSize < MIN_HEADER || headerSize > sectorSize) return `header size ${headerSize} out of range`;
  const copy = b.slice(0, headerSize);
  copy.fill(0, 16, 20);
  const stored = u32(b, 16);
  const actual = crc32(copy);
  if (stored !== actual) return `header CRC32 mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)})`;
  const myLba = u64(b, 24);
  const alternateLba = u64(b, 32);
  const firstUsableLba = u64(b, 40);
  const lastUsableLba = u64(b, 48);
  const entriesLba = u64(b, 72);
  if (myLba !== lba) return `my-LBA field ${myLba ?? 'too large'} is not ${lba}`;
  if (alternateLba === undefined || firstUsableLba === undefined || lastUsableLba === undefined || entriesLba === undefined) return 'an LBA field is above 2^53';
  if (firstUsableLba > lastUsableLba + 1) return `first usable LBA ${firstUsableLba} is after last usable LBA ${lastUsableLba}`;
  const entryCount = u32(b, 80);
  const entrySize = u32(b, 84);
  if (entrySize < 128 || entrySize > 4096 || entrySize % 8 !== 0) return `entry size ${entrySize} out of range`;
  if (entryCount * entrySize > MAX_TABLE_BYTES) return `entry array ${entryCount} x ${entrySize} bytes exceeds ${MAX_TABLE_BYTES} bytes`;
  const entrySectors = Math.ceil((entryCount * entrySize) / sectorSize);
  if (entryCount > 0 && (entriesLba < 1 || entriesLba + entrySectors > total)) return `entry array at LBA ${entriesLba} lies outside the disk`;
  return {
    revision: u32(b, 8),
    myLba,
    alternateLba,
    firstUsableLba,
    lastUsableLba,
    diskGuid: formatGuid(b, 56),
    entriesLba,
    entryCount,
    entrySize,
    entriesCrc: u32(b, 88),
  };
}

async function loadHeader(disk: Disk, lba: number, which: string, warnings: string[]): Promise<Header | undefined> {
  const b = await readSectors(disk, lba, 1, warnings, `${which} GPT header`);
  if (!b) return undefined;
  const h = parseHeader(b, lba, disk.sectorSize, disk.sectorCount());
  if (typeof h === 'string') {
    warnings.push(`${which} GPT header at LBA ${lba}: ${h}`);
    return undefined;
  }
  return h;
}

async function loadEntries(disk: Disk, h: Header, which: string, warnings: string[]): Promise<Uint8Array | undefined> {
  const bytes = h.entryCount * h.entrySize;
  if (bytes === 0) return new Uint8Array(0);
  const b = await readSectors(disk, h.entriesLba, Math.ceil(bytes / disk.sectorSize), warnings, `${which} GPT entries`);
  if (!b) return undefined;
  const entries = b.subarray(0, bytes);
  const actual = crc32(entries);
  if (actual !== h.entriesCrc) {
    warnings.push(`${which} GPT entry array CRC32 mismatch (stored 0x${h.entriesCrc.toString(16)}, computed 0x${actual.toString(16)})`);
    return undefined;
  }
  return entries;
}

export async function readGpt(disk: Disk, warnings: string[]): Promise<GptResult | undefined> {
  const total = disk.sectorCount();
  const lastLba = total - 1;
  let header: 'primary' | 'backup' = 'primary';
  let h = await loadHeader(disk, 1, 'primary', warnings);
  let entries = h ? await loadEntries(disk, h, 'primary', warnings) : undefined;
  if (h && entries) {
    await checkBackup(disk, h, warnings);
  } else {
    const candidates = [lastLba];
    if (h && h.alternateLba !== lastLba && h.alternateLba > 1 && h.alternateLba < total) candidates.push(h.alternateLba);
    h = undefined;
    for (const lba of candidates) {
      if (lba <= 1) break;
      const b = await loadHeader(disk, lba, 'backup', warnings);
      const e = b ? await loadEntries(disk, b, 'backup', warnings) : undefined;
      if (b && e) {
        h = b;
        entries = e;
        header = 'backup';
        warnings.push(`primary GPT is unusable; using the backup GPT at LBA ${lba}`);
        break;
      }
    }
  }
  if (!h || !entries) return undefined;
  if ((h.revision >>> 16) !== 1) warnings.push(`GPT revision 0x${h.revision.toString(16)} is not 1.x`);
  if (h.lastUsableLba >= total) warnings.push(`GPT last usable LBA ${h.lastUsableLba} is beyond the disk's last LBA ${lastLba}`);
  return {
    diskGuid: h.diskGuid,
    partitions: parseEntries(entries, h, total, warnings),
    info: {
      header,
      revision: h.revision,
      headerLba: h.myLba,
      alternateLba: h.alternateLba,
      firstUsableLba: h.firstUsableLba,
      lastUsableLba: h.lastUsableLba,
      entriesLba: h.entriesLba,
      entryCount: h.entryCount,
      entrySize: h.entrySize,
    },
  };
}

async function checkBackup(disk: Disk, primary: Header, warnings: string[]): Promise<void> {
  const lba = primary.alternateLba;
  if (lba <= 1 || lba >= disk.sectorCount()) {
    warnings.push(`backup GPT header LBA ${lba} is outside the disk`);
    return;
  }
  const note: string[] = [];
  const b = await loadHeader(disk, lba, 'backup', note);
  const e = b ? await loadEntries(disk, b, 'backup', note) : undefined;
  if (!b || !e) warnings.push(`backup GPT is damaged: ${note.join('; ')}`);
  else if (b.entriesCrc !== primary.entriesCrc || b.alternateLba !== 1) warnings.push('backup GPT does not match the primary');
}

function utf16Name(b: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 36; i++) {
    const unit = (b[at + 2 * i] ?? 0) | ((b[at + 2 * i + 1] ?? 0) << 8);
    if (unit === 0) break;
    s += String.fromCharCode(unit);
  }
  return s;
}

function parseEntries(entries: Uint8Array, h: Header, total: number, warnings: string[]): Partition[] {
  const out: Partition[] = [];
  for (let slot = 0; slot < h.entryCount; slot++) {
    const at = slot * h.entrySize;
    let used = false;
    for (let i = 0; i < 16; i++) if (entries[at + i] !== 0) used = true;
    if (!used) continue;
    const index = slot + 1;
    const first = u64(entries, at + 32);
    const last = u64(entries, at + 40);
    if (first === undefined || last === undefined || last < first) {
      warnings.push(`partition ${index}: invalid LBA range (first ${first ?? 'huge'}, last ${last ?? 'huge'}); ignored`);
      continue;
    }
    if (first < h.firstUsableLba || last > h.lastUsableLba) warnings.push(`partition ${index}: LBAs ${first}-${last} are outside the usable range ${h.firstUsableLba}-${h.lastUsableLba}`);
    if (last >= total) warnings.push(`partition ${index}: ends at LBA ${last}, beyond the disk's last LBA ${total - 1}`);
    const attrLo = u32(entries, at + 48);
    const attrHi = u32(entries, at + 52);
    const guid = formatGuid(entries, at);
    out.push({
      index,
      type: { kind: 'gpt', guid, name: gptTypeName(guid) },
      name: utf16Name(entries, at + 56),
      startLba: first,
      sectors: last - first + 1,
      bootable: (attrLo & 4) !== 0,
      partitionGuid: formatGuid(entries, at + 16),
      attributes: attrHi.toString(16).padStart(8, '0') + attrLo.toString(16).padStart(8, '0'),
      logical: false,
    });
  }
  warnOverlaps(out, warnings);
  return out;
}
