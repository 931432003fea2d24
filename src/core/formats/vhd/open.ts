/**
 * `openVhd`: opens any VHD by its footer's disk type. Fixed disks open as `VhdFixedDisk`; dynamic
 * and differencing disks are recognised (from the footer at the end, or from the copy a dynamic
 * disk keeps at offset 0) and rejected with `UNSUPPORTED` until their reader lands. A file with no
 * valid footer is `CORRUPT_IMAGE` naming the field at fault.
 */
import { DiskError, asDiskError } from '../../disk/errors.ts';
import type { SyncFile } from '../../ports/sync-file.ts';
import { VHD_FOOTER_SIZE, hasVhdCookie } from './footer.ts';
import { VhdFixedDisk, namedParse, type VhdFixedOpenOptions } from './fixed.ts';

/** The footer's disk type ('fixed', 'dynamic', 'differencing'), from the end footer or, if that is damaged, the copy at offset 0. */
export function vhdSubformat(file: SyncFile, name = 'vhd'): string {
  const size = file.size();
  if (size < VHD_FOOTER_SIZE) throw new DiskError('CORRUPT_IMAGE', `${name}: ${size} bytes is too small to hold a VHD footer`, { field: 'footer' });
  const end = new Uint8Array(VHD_FOOTER_SIZE);
  file.read(size - VHD_FOOTER_SIZE, end);
  if (hasVhdCookie(end)) return namedParse(name, end).diskType;
  const start = new Uint8Array(VHD_FOOTER_SIZE);
  file.read(0, start);
  return namedParse(name, hasVhdCookie(start) ? start : end).diskType;
}

export function openVhd(file: SyncFile, options: VhdFixedOpenOptions = {}): VhdFixedDisk {
  const name = options.name ?? 'vhd';
  const end = new Uint8Array(VHD_FOOTER_SIZE);
  const start = new Uint8Array(VHD_FOOTER_SIZE);
  let size: number;
  try {
    size = file.size();
    if (size >= VHD_FOOTER_SIZE) {
      file.read(size - VHD_FOOTER_SIZE, end);
      file.read(0, start);
    }
  } catch (e) {
    throw asDiskError(e, `${name}: reading the VHD footer`);
  }
  if (size < VHD_FOOTER_SIZE) {
    throw new DiskError('CORRUPT_IMAGE', `${name}: ${size} bytes is too small to hold a VHD footer`, { field: 'footer' });
  }
  if (!hasVhdCookie(end) && hasVhdCookie(start)) {
    // Only a dynamic or differencing disk starts with a footer copy; its end footer is damaged.
    const copy = namedParse(name, start);
    if (copy.diskType !== 'fixed') {
      throw new DiskError('UNSUPPORTED', `${name}: ${copy.diskType} VHD images are not supported yet (only fixed)`);
    }
  }
  return VhdFixedDisk.fromFooter(file, size, namedParse(name, end), options);
}
