/**
 * Builds MBR, EBR and GPT structures into an image buffer: for tests, fixtures and mutation
 * testing of the parsers (and a starting point for a future "create table" command). It writes
 * exactly what it is told, valid or not, so tests can also build broken tables. Throws RangeError
 * if a structure does not fit in the buffer.
 */
import { crc32 } from './crc32.ts';
import { parseGuid } from './partition-types.ts';
import { RamDisk } from '../../backends/ram-disk.ts';

export interface MbrEntrySpec {
  readonly status?: number;
  readonly code: number;
  readonly start: number;
  readonly sectors: number;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function put64(b: Uint8Array, at: number, v: number): void {
  put32(b, at, v % 0x100000000);
  put32(b, at + 4, Math.floor(v / 0x100000000));
}

/** Writes an MBR/EBR sector at `lba`: up to four entries, optional disk signature, 0x55AA. */
export function writeMbr(img: Uint8Array, sectorSize: number, lba: number, entries: readonly MbrEntrySpec[], diskSignature?: number): void {
  const base = lba * sectorSize;
  if (base + 512 > img.length || entries.length > 4) throw new RangeError('MBR does not fit');
  const b = img.subarray(base, base + 512);
  b.fill(0, 440, 512);
  if (diskSignature !== undefined) put32(b, 440, diskSignature);
  entries.forEach((e, i) => {
    const at = 446 + 16 * i;
    b[at] = e.status ?? 0;
    b[at + 4] = e.code;
    put32(b, at + 8, e.start);
    put32(b, at + 12, e.sectors);
  });
  b[510] = 0x55;
  b[511] = 0xaa;
}

export interface GptPartitionSpec {
  readonly slot: number;
  readonly typeGuid: string;
  readonly partitionGuid: string;
  readonly first: number;
  readonly last: number;
  /** Low 32 attribute bits. */
  readonly attributes?: number;
  readonly name?: string;
}

export interface GptSpec {
  readonly sectorSize: number;
  readonly totalSectors: number;
  readonly diskGuid: string;
  readonly entryCount?: number;
  readonly entrySize?: number;
  readonly partitions: readonly GptPartitionSpec[];
}

/** A whole image: protective MBR, primary GPT at LBA 1 (entries at 2), backup GPT at the end. */
export function buildGptImage(spec: GptSpec): Uint8Array {
  const { sectorSize: ss, totalSectors: total } = spec;
  const count = spec.entryCount ?? 128;
  const size = spec.entrySize ?? 128;
  const entrySectors = Math.ceil((count * size) / ss);
  const img = new Uint8Array(total * ss);
  writeMbr(img, ss, 0, [{ code: 0xee, start: 1, sectors: Math.min(total - 1, 0xffffffff) }]);
  const entries = new Uint8Array(count * size);
  for (const p of spec.partitions) {
    const at = p.slot * size;
    entries.set(parseGuid(p.typeGuid), at);
    entries.set(parseGuid(p.partitionGuid), at + 16);
    put64(entries, at + 32, p.first);
    put64(entries, at + 40, p.last);
    put32(entries, at + 48, p.attributes ?? 0);
    const name = p.name ?? '';
    for (let i = 0; i < Math.min(name.length, 36); i++) {
      entries[at + 56 + 2 * i] = name.charCodeAt(i) & 0xff;
      entries[at + 57 + 2 * i] = name.charCodeAt(i) >>> 8;
    }
  }
  const firstUsable = 2 + entrySectors;
  const lastUsable = total - 2 - entrySectors;
  const backupEntries = total - 1 - entrySectors;
  img.set(entries, 2 * ss);
  img.set(entries, backupEntries * ss);
  const header = (my: number, alt: number, entriesLba: number): void => {
    const b = img.subarray(my * ss, my * ss + ss);
    b.set([0x45, 0x46, 0x49, 0x20, 0x50, 0x41, 0x52, 0x54], 0);
    put32(b, 8, 0x00010000);
    put32(b, 12, 92);
    put64(b, 24, my);
    put64(b, 32, alt);
    put64(b, 40, firstUsable);
    put64(b, 48, lastUsable);
    b.set(parseGuid(spec.diskGuid), 56);
    put64(b, 72, entriesLba);
    put32(b, 80, count);
    put32(b, 84, size);
    put32(b, 88, crc32(entries));
    fixHeaderCrc(img, ss, my);
  };
  header(1, total - 1, 2);
  header(total - 1, 1, backupEntries);
  return img;
}

/** Recomputes the header CRC of the GPT header at `lba` (after a test edited its fields). */
export function fixHeaderCrc(img: Uint8Array, sectorSize: number, lba: number): void {
  const b = img.subarray(lba * sectorSize, lba * sectorSize + sectorSize);
  const size = Math.min(Math.max((b[12] ?? 0) | ((b[13] ?? 0) << 8), 0), sectorSize);
  put32(b, 16, 0);
  put32(b, 16, crc32(b.subarray(0, size)));
}

/** Recomputes the entry-array CRC, then the header CRC, of the GPT header at `lba`, if the fields allow. */
export function fixGptCrcs(img: Uint8Array, sectorSize: number, lba: number): void {
  const b = img.subarray(lba * sectorSize, lba * sectorSize + sectorSize);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entriesLba = Number(dv.getBigUint64(72, true));
  const bytes = dv.getUint32(80, true) * dv.getUint32(84, true);
  const start = entriesLba * sectorSize;
  if (bytes <= 1024 * 1024 && start + bytes <= img.length) dv.setUint32(88, crc32(img.subarray(start, start + bytes)), true);
  fixHeaderCrc(img, sectorSize, lba);
}

/** A RamDisk holding `img` (whose length must be a multiple of `sectorSize`). */
export async function diskFromImage(img: Uint8Array, sectorSize: number): Promise<RamDisk> {
  const disk = new RamDisk({ sectors: img.length / sectorSize, sectorSize });
  await disk.write(0, img);
  return disk;
}
