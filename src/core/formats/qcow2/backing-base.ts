/**
 * The bottom of a qcow2 backing chain when the backing file is not qcow2: a raw image or a VHD
 * (QEMU's 'vpc'), opened read-only over its `ImageFile` and returned as a `DiskLayer`, so the
 * chain stays one LayeredDisk (absent clusters of the overlay read from it; past its end, zeroes).
 *
 * - `backingFormatOf(file, recorded)`: the recorded backing format if there is one (qcow2, raw,
 *   vpc/vhd), else detected by content as QEMU probes: qcow2 magic, a VHD footer cookie
 *   ('conectix') at offset 0 or at the end, 'vhdxfile', anything else raw.
 * - raw: sector n at byte 512 n; a partial last sector reads with a zero tail.
 * - VHD: fixed and dynamic. A differencing VHD as a qcow2 backing file is UNSUPPORTED (its own
 *   parent would need resolving relative to it), as is VHDX.
 *
 * Errors: UNSUPPORTED as above or for an unknown recorded format; the readers' CORRUPT_IMAGE; the
 * file's DiskErrors.
 */
import type { Disk } from '../../disk/disk.ts';
import { DiskError } from '../../disk/errors.ts';
import { checkRange } from '../../disk/range.ts';
import { DiskLayer } from '../../layered/disk-layer.ts';
import type { ImageFile } from '../image-file.ts';
import { readAnyVhdFooter } from '../vhd/create-dynamic.ts';
import { vhdDynamicBaseLayer } from '../vhd/base-layer.ts';
import { hasVhdCookie, VHD_FOOTER_SIZE } from '../vhd/footer.ts';
import { ImageFixedDisk } from '../vhd/image-fixed-disk.ts';
import { VhdSparseImage } from '../vhd/sparse-image.ts';
import { QCOW2_MAGIC } from './header.ts';

export type BackingFormat = 'qcow2' | 'raw' | 'vhd' | 'vhdx';

export async function backingFormatOf(file: ImageFile, recorded: string | undefined, child: string): Promise<BackingFormat> {
  if (recorded !== undefined) {
    const f = recorded === 'vpc' ? 'vhd' : recorded;
    if (f === 'qcow2' || f === 'raw' || f === 'vhd') return f;
    throw new DiskError('UNSUPPORTED', `${child}: backing file format '${recorded}' is not supported (qcow2, raw or vpc)`);
  }
  const size = file.size();
  const head = new Uint8Array(Math.min(size, VHD_FOOTER_SIZE));
  await file.read(0, head, 'magic');
  if (size >= 4 && new DataView(head.buffer).getUint32(0) === QCOW2_MAGIC) return 'qcow2';
  if (size >= 8 && new TextDecoder().decode(head.subarray(0, 8)) === 'vhdxfile') return 'vhdx';
  if (size >= VHD_FOOTER_SIZE) {
    if (hasVhdCookie(head)) return 'vhd';
    const tail = new Uint8Array(VHD_FOOTER_SIZE);
    await file.read(size - VHD_FOOTER_SIZE, tail, 'footer');
    if (hasVhdCookie(tail)) return 'vhd';
  }
  return 'raw';
}

/** A raw or VHD backing file as the base layer of a chain; the layer owns (closes) the file. */
export async function openBaseLayer(file: ImageFile, format: Exclude<BackingFormat, 'qcow2'>, child: string): Promise<DiskLayer> {
  if (format === 'raw') return new DiskLayer(new ImageRawDisk(file));
  if (format === 'vhdx') throw new DiskError('UNSUPPORTED', `${child}: a VHDX backing file (${file.name}) is not supported`);
  const footer = await readAnyVhdFooter(file);
  if (footer.diskType === 'fixed') return new DiskLayer(new ImageFixedDisk(file, footer));
  const image = await VhdSparseImage.open(file, { readOnly: true });
  if (image.footer.diskType !== 'dynamic') {
    throw new DiskError('UNSUPPORTED', `${child}: a differencing VHD backing file (${file.name}) is not supported`);
  }
  return vhdDynamicBaseLayer(image);
}

/** A raw image over an ImageFile, read-only. */
export class ImageRawDisk implements Disk {
  readonly diskType = 'raw';
  readonly sectorSize = 512;
  readonly physicalSectorSize = 512;
  readonly readOnly = true;
  readonly fuaRespected = false;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly diskId = undefined;
  readonly file: ImageFile;

  constructor(file: ImageFile) {
    this.file = file;
  }

  sectorCount(): number {
    return Math.ceil(this.file.size() / 512);
  }

  async read(lba: number, buf: Uint8Array): Promise<void> {
    checkRange('read', lba, buf.length / 512, this.sectorCount());
    const at = lba * 512;
    const inside = Math.max(0, Math.min(buf.length, this.file.size() - at));
    if (inside > 0) await this.file.read(at, buf.subarray(0, inside), 'raw data');
    buf.fill(0, inside);
  }

  async write(lba: number, data: Uint8Array): Promise<void> {
    checkRange('write', lba, data.length / 512, this.sectorCount());
    throw new DiskError('READ_ONLY', `${this.file.name}: a backing file is read-only`, { lba });
  }

  async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.sectorCount());
    throw new DiskError('READ_ONLY', `${this.file.name}: a backing file is read-only`, { lba });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.file.close();
  }
}
