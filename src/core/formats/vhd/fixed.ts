/**
 * Fixed VHD: the disk's sectors, in order, from byte 0, followed by a 512-byte footer. The footer
 * sits past the last sector, so no I/O can reach it (the inner FileDisk range-checks against the
 * footer's current size). Writes are allowed when opened writable; resize is not offered, since it
 * would have to move the footer.
 *
 * Size. Our reader takes the disk size from the footer's *current size* (as Hyper-V does) and
 * insists the file is exactly current size + 512 bytes. QEMU instead sizes a VHD from its CHS
 * geometry when the creator application is 'vpc ' or 'qemu' (older QEMU: any creator it does not
 * know), which rounds most sizes down. So we *write* creator application "win " (Hyper-V's;
 * Azure's fixed VHDs carry it too), creator version 10.0 and host OS "Wi2k": every reader, QEMU
 * included, then takes the exact current size and nothing is lost. Geometry is still computed per
 * the specification. Images QEMU creates have current size = CHS size, so both readers agree on
 * them too.
 *
 * Largest disk: fewer than 0xFF000000 sectors (just under 2040 GiB), QEMU's VHD limit; creating a
 * larger one is a DiskConfigError. Errors: a bad footer or a file of the wrong size is
 * CORRUPT_IMAGE naming the field; I/O failures are IO from the inner FileDisk.
 */
import type { Disk, WriteOptions } from '../../disk/disk.ts';
import { DiskConfigError, DiskError, asDiskError } from '../../disk/errors.ts';
import type { SyncFile } from '../../ports/sync-file.ts';
import { FileDisk } from '../../backends/file-disk.ts';
import {
  VHD_FEATURES_RESERVED,
  VHD_FIXED_DATA_OFFSET,
  VHD_FOOTER_SIZE,
  VHD_VERSION,
  parseVhdFooter,
  serializeVhdFooter,
  vhdTimestamp,
  type VhdFooter,
} from './footer.ts';
import { chsGeometryFor } from './geometry.ts';

/** QEMU refuses VHDs of this many sectors or more (VHD_MAX_SECTORS in block/vpc.c). */
export const VHD_MAX_SECTORS = 0xff00_0000 - 1;
export const VHD_MAX_BYTES = VHD_MAX_SECTORS * 512;

export const DISKLAB_CREATOR = { application: 'win ', version: 0x000a_0000, hostOs: 'Wi2k' } as const;

export interface VhdFixedOpenOptions {
  readonly readOnly?: boolean;
  /** For messages: the file's name or path. */
  readonly name?: string;
}

export interface VhdFixedCreateOptions extends VhdFixedOpenOptions {
  /** 16 bytes; default: a random version-4 UUID. */
  readonly uniqueId?: Uint8Array;
  /** Unix time in ms for the footer's timestamp; default Date.now(). */
  readonly now?: number;
}

export class VhdFixedDisk implements Disk {
  readonly diskType = 'vhd-fixed';
  readonly sectorSize = 512;
  readonly physicalSectorSize = 512;
  readonly readOnly: boolean;
  readonly diskId: Uint8Array;
  readonly fuaRespected = true;
  readonly unmapBehavior = 'ignored' as const;
  readonly optimalUnmapSectors = 1;
  readonly footer: VhdFooter;
  readonly #data: FileDisk;

  /** Use `openVhdFixed` or `createVhdFixed`; this trusts that `footer` matches `file`. */
  private constructor(file: SyncFile, footer: VhdFooter, options: VhdFixedOpenOptions) {
    this.footer = footer;
    this.readOnly = options.readOnly ?? false;
    this.diskId = footer.uniqueId.slice();
    this.#data = new FileDisk(file, {
      sectors: footer.currentSize / 512,
      readOnly: this.readOnly,
      name: options.name ?? 'vhd',
    });
  }

  /** Opens a fixed VHD, reading and validating its footer. (`openVhd` opens any VHD type.) */
  static open(file: SyncFile, options: VhdFixedOpenOptions = {}): VhdFixedDisk {
    const name = options.name ?? 'vhd';
    const bytes = new Uint8Array(VHD_FOOTER_SIZE);
    let size: number;
    try {
      size = file.size();
      if (size >= VHD_FOOTER_SIZE) file.read(size - VHD_FOOTER_SIZE, bytes);
    } catch (e) {
      throw asDiskError(e, `${name}: reading the VHD footer`);
    }
    if (size < VHD_FOOTER_SIZE) {
      throw new DiskError('CORRUPT_IMAGE', `${name}: ${size} bytes is too small to hold a VHD footer`, { field: 'footer' });
    }
    return VhdFixedDisk.fromFooter(file, size, namedParse(name, bytes), options);
  }

  /** Opens with a footer already parsed from the end of a file of `fileSize` bytes. */
  static fromFooter(file: SyncFile, fileSize: number, footer: VhdFooter, options: VhdFixedOpenOptions = {}): VhdFixedDisk {
    const name = options.name ?? 'vhd';
    if (footer.diskType !== 'fixed') {
      throw new DiskError('UNSUPPORTED', `${name}: ${footer.diskType} VHD images are not supported yet (only fixed)`);
    }
    if (fileSize !== footer.currentSize + VHD_FOOTER_SIZE) {
      throw new DiskError(
        'CORRUPT_IMAGE',
        `${name}: VHD footer: current size ${footer.currentSize} does not match the file (${fileSize} bytes, expected current size + 512)`,
        { field: 'currentSize' },
      );
    }
    return new VhdFixedDisk(file, footer, options);
  }

  /** Makes `file` (expected empty) a zeroed fixed VHD of `sizeBytes` and opens it. */
  static create(file: SyncFile, sizeBytes: number, options: VhdFixedCreateOptions = {}): VhdFixedDisk {
    const footer = fixedFooterFor(sizeBytes, options);
    const bytes = serializeVhdFooter(footer);
    try {
      file.truncate(0);
      file.truncate(sizeBytes + VHD_FOOTER_SIZE);
      file.write(sizeBytes, bytes);
      file.flush();
    } catch (e) {
      throw asDiskError(e, `${options.name ?? 'vhd'}: creating a fixed VHD`);
    }
    return new VhdFixedDisk(file, footer, options);
  }

  sectorCount(): number {
    return this.#data.sectorCount();
  }

  read(lba: number, buf: Uint8Array): Promise<void> {
    return this.#data.read(lba, buf);
  }

  write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#data.write(lba, data, options);
  }

  flush(): Promise<void> {
    return this.#data.flush();
  }

  unmap(lba: number, count: number): Promise<void> {
    return this.#data.unmap(lba, count);
  }

  close(): Promise<void> {
    return this.#data.close();
  }
}

/** The footer disklab writes for a new fixed VHD of `sizeBytes` (see the module doc for the creator). */
export function fixedFooterFor(sizeBytes: number, options: Pick<VhdFixedCreateOptions, 'uniqueId' | 'now'> = {}): VhdFooter {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes % 512 !== 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `VHD size ${sizeBytes} must be a non-negative multiple of 512 bytes`, { value: sizeBytes });
  }
  if (sizeBytes > VHD_MAX_BYTES) {
    throw new DiskConfigError('INVALID_PARAMETER', 'size', `VHD size ${sizeBytes} exceeds the VHD maximum of ${VHD_MAX_BYTES} bytes (just under 2040 GiB)`, { value: sizeBytes });
  }
  const uniqueId = options.uniqueId ?? randomUniqueId();
  if (uniqueId.length !== 16) {
    throw new DiskConfigError('INVALID_PARAMETER', 'uniqueId', `unique id must be 16 bytes, got ${uniqueId.length}`, { value: uniqueId.length });
  }
  return {
    features: VHD_FEATURES_RESERVED,
    version: VHD_VERSION,
    dataOffset: VHD_FIXED_DATA_OFFSET,
    timestamp: vhdTimestamp(options.now ?? Date.now()),
    creatorApplication: DISKLAB_CREATOR.application,
    creatorVersion: DISKLAB_CREATOR.version,
    creatorHostOs: DISKLAB_CREATOR.hostOs,
    originalSize: sizeBytes,
    currentSize: sizeBytes,
    geometry: chsGeometryFor(sizeBytes / 512),
    diskType: 'fixed',
    uniqueId: uniqueId.slice(),
    savedState: false,
  };
}

/** A random version-4 UUID, as the VHD spec's unique id (crypto.getRandomValues exists on every platform we run). */
export function randomUniqueId(): Uint8Array {
  const id = crypto.getRandomValues(new Uint8Array(16));
  id[6] = ((id[6] ?? 0) & 0x0f) | 0x40;
  id[8] = ((id[8] ?? 0) & 0x3f) | 0x80;
  return id;
}

/** `parseVhdFooter`, with the file's name put in front of any error message. */
export function namedParse(name: string, bytes: Uint8Array): VhdFooter {
  try {
    return parseVhdFooter(bytes);
  } catch (e) {
    if (e instanceof DiskError) throw new DiskError(e.code, `${name}: ${e.message}`, { field: e.field, cause: e });
    throw e;
  }
}
