/**
 * GUIDs as VHDX stores them: 16 bytes in the Windows layout (the first three fields little-endian,
 * the last eight bytes as written), shown in the usual 8-4-4-4-12 form.
 */

/** Bytes of a GUID written as 'XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX'. */
export function guidBytes(text: string): Uint8Array {
  const hex = text.replace(/[-{}]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${text}`);
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) raw[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return new Uint8Array([raw[3]!, raw[2]!, raw[1]!, raw[0]!, raw[5]!, raw[4]!, raw[7]!, raw[6]!, ...raw.subarray(8)]);
}

/** The 8-4-4-4-12 upper-case text of 16 GUID bytes. */
export function guidText(bytes: Uint8Array): string {
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  const hex = order.map((i) => (bytes[i] ?? 0).toString(16).padStart(2, '0').toUpperCase()).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function guidEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== 16 || b.length !== 16) return false;
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function guidIsZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

export const BAT_REGION_GUID = guidBytes('2DC27766-F623-4200-9D64-115E9BFD4A08');
export const METADATA_REGION_GUID = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
export const FILE_PARAMETERS_GUID = guidBytes('CAA16737-FA36-4D43-B3B6-33F0AA44E76B');
export const VIRTUAL_DISK_SIZE_GUID = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');
export const PAGE83_GUID = guidBytes('BECA12AB-B2E6-4523-93EF-C309E000C746');
export const LOGICAL_SECTOR_SIZE_GUID = guidBytes('8141BF1D-A96F-4709-BA47-F233A8FAAB5F');
export const PHYSICAL_SECTOR_SIZE_GUID = guidBytes('CDA348C7-445D-4471-9CC9-E9885251C556');
export const PARENT_LOCATOR_GUID = guidBytes('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C');
export const VHDX_PARENT_LOCATOR_TYPE_GUID = guidBytes('B04AEFB7-D19E-4A81-B789-25B8E9445913');
