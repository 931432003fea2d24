/**
 * Format detection by content, never by file name:
 * - qcow2: magic "QFI\xfb" at offset 0;
 * - VHDX: "vhdxfile" at offset 0;
 * - VHD: the footer cookie "conectix" in the last 512 bytes (every VHD), or at offset 0 (the
 *   footer copy that starts a dynamic or differencing VHD);
 * - anything else is raw.
 * Detection only looks at magic numbers; opening validates the rest. I/O errors from the file
 * are thrown as `DiskError('IO')`.
 */
import { asDiskError } from '../disk/errors.ts';
import type { SyncFile } from '../ports/sync-file.ts';
import { VHD_FOOTER_SIZE, hasVhdCookie } from './vhd/footer.ts';

export const IMAGE_FORMATS = ['raw', 'vhd', 'vhdx', 'qcow2'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface Detection {
  readonly format: ImageFormat;
  /** What gave it away, for `info` and error messages. */
  readonly evidence: string;
}

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];
const VHDX_MAGIC = [...'vhdxfile'].map((c) => c.charCodeAt(0));

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

export function detectFormat(file: SyncFile, name = 'image'): Detection {
  const head = new Uint8Array(VHD_FOOTER_SIZE);
  const tail = new Uint8Array(VHD_FOOTER_SIZE);
  let size: number;
  try {
    size = file.size();
    file.read(0, head);
    if (size >= VHD_FOOTER_SIZE) file.read(size - VHD_FOOTER_SIZE, tail);
  } catch (e) {
    throw asDiskError(e, `${name}: detecting the format`);
  }
  if (size >= 4 && startsWith(head, QCOW2_MAGIC)) return { format: 'qcow2', evidence: "magic 'QFI\\xfb' at offset 0" };
  if (size >= 8 && startsWith(head, VHDX_MAGIC)) return { format: 'vhdx', evidence: "signature 'vhdxfile' at offset 0" };
  if (size >= VHD_FOOTER_SIZE && hasVhdCookie(tail)) return { format: 'vhd', evidence: "footer cookie 'conectix' at the end" };
  if (size >= VHD_FOOTER_SIZE && hasVhdCookie(head)) return { format: 'vhd', evidence: "footer copy 'conectix' at offset 0" };
  return { format: 'raw', evidence: 'no known signature' };
}
