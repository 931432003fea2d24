/**
 * Names for well-known partition types: MBR type bytes and GPT type GUIDs. Lookup only; an unknown
 * type has no name (undefined), never an error. GUIDs are in the canonical upper-case text form.
 */

const MBR_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01, 'FAT12'],
  [0x04, 'FAT16 <32M'],
  [0x05, 'Extended'],
  [0x06, 'FAT16'],
  [0x07, 'HPFS/NTFS/exFAT'],
  [0x0b, 'W95 FAT32'],
  [0x0c, 'W95 FAT32 (LBA)'],
  [0x0e, 'W95 FAT16 (LBA)'],
  [0x0f, 'W95 Extended (LBA)'],
  [0x11, 'Hidden FAT12'],
  [0x27, 'Hidden NTFS WinRE'],
  [0x42, 'Windows dynamic'],
  [0x82, 'Linux swap'],
  [0x83, 'Linux'],
  [0x85, 'Linux extended'],
  [0x8e, 'Linux LVM'],
  [0xa5, 'FreeBSD'],
  [0xa6, 'OpenBSD'],
  [0xa8, 'Darwin UFS'],
  [0xa9, 'NetBSD'],
  [0xaf, 'HFS / HFS+'],
  [0xee, 'GPT protective'],
  [0xef, 'EFI (FAT-12/16/32)'],
  [0xfd, 'Linux raid autodetect'],
]);

/** MBR types that hold an EBR chain of logical partitions. */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

export const MBR_GPT_PROTECTIVE = 0xee;

const GPT_TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'EFI System'],
  ['21686148-6449-6E6F-744E-656564454649', 'BIOS boot'],
  ['E3C9E316-0B5C-4DB8-817D-F92DF00215AE', 'Microsoft reserved'],
  ['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', 'Microsoft basic data'],
  ['DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', 'Windows recovery environment'],
  ['5808C8AA-7E8F-42E0-85D2-E1E90434CFB3', 'Microsoft LDM metadata'],
  ['AF9B60A0-1431-4F62-BC68-3311714A69AD', 'Microsoft LDM data'],
  ['0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'Linux filesystem'],
  ['0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', 'Linux swap'],
  ['E6D6D379-F507-44C2-A23C-238F2A3DF928', 'Linux LVM'],
  ['A19D880F-05FC-4D3B-A006-743F0F84911E', 'Linux RAID'],
  ['933AC7E1-2EB4-4F13-B844-0E14E2AEF915', 'Linux home'],
  ['4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', 'Linux root (x86-64)'],
  ['BC13C2FF-59E6-4262-A352-B275FD6F7172', 'Linux extended boot'],
  ['48465300-0000-11AA-AA11-00306543ECAC', 'Apple HFS/HFS+'],
  ['7C3457EF-0000-11AA-AA11-00306543ECAC', 'Apple APFS'],
  ['516E7CB4-6ECF-11D6-8FF8-00022D09712B', 'FreeBSD data'],
]);

export function mbrTypeName(code: number): string | undefined {
  return MBR_TYPE_NAMES.get(code);
}

export function gptTypeName(guid: string): string | undefined {
  return GPT_TYPE_NAMES.get(guid.toUpperCase());
}

/**
 * Formats 16 on-disk GUID bytes (first three fields little-endian, as GPT and Microsoft store
 * them) as the canonical text form, upper case.
 */
export function formatGuid(b: Uint8Array, at = 0): string {
  const h = (i: number): string => (b[at + i] ?? 0).toString(16).padStart(2, '0');
  const seq = (idx: number[]): string => idx.map(h).join('');
  return `${seq([3, 2, 1, 0])}-${seq([5, 4])}-${seq([7, 6])}-${seq([8, 9])}-${seq([10, 11, 12, 13, 14, 15])}`.toUpperCase();
}

/** Inverse of formatGuid: canonical text to 16 on-disk bytes. Throws RangeError on bad text. */
export function parseGuid(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a GUID: ${text}`);
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) raw[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Uint8Array.from(order, (i) => raw[i] ?? 0);
}
