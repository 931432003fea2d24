/**
 * CryptDisk: encryption at rest over any Disk (OpenVMM disk_crypt), with the byte layout of Linux
 * dm-crypt `aes-xts-plain64`: sector L of this disk is sector L + `dataOffsetSectors` of the inner
 * disk, encrypted with tweak L + `ivOffset` (dm-crypt's `--offset` and `--skip`). With a 4096-byte
 * sector size the tweak counts 4096-byte sectors (dm-crypt's `iv_large_sectors`, as LUKS2 does).
 *
 * Promises
 * - Reads decrypt after the inner read, in the caller's buffer (which receives the result anyway).
 * - A sector whose ciphertext is all zero bytes reads as zeroes instead of being decrypted. That
 *   keeps the Disk contract (sectors never written read as zeroes; growing a disk exposes zeroes)
 *   over sparse inner disks and huge fresh images, where "decrypt everything" would turn every
 *   unwritten sector into noise. Real ciphertext is all-zero with probability 2^-4096 per 512-byte
 *   sector, so images written through dm-crypt or this class decrypt exactly as dm-crypt does; only
 *   sectors zeroed *underneath* the encryption differ (dm-crypt shows noise there, we show zeroes).
 * - Writes encrypt into a private staging buffer: the caller's `data` is never modified, and the
 *   inner disk only ever sees ciphertext.
 * - Everything else is forwarded. `close` also disposes the cipher, which wipes the key.
 * Errors: inner errors pass through unchanged; a cipher failure becomes a DiskError (`asDiskError`).
 * A bad offset is a `DiskConfigError('INVALID_PARAMETER')` at construction.
 */
import type { Disk, UnmapBehavior, WriteOptions } from '../disk/disk.ts';
import { asDiskError, DiskConfigError } from '../disk/errors.ts';
import { checkRange } from '../disk/range.ts';
import type { SectorCipher } from '../ports/sector-cipher.ts';
import { ForwardingDisk } from './forwarding-disk.ts';

export interface CryptDiskOptions {
  /** The tweak of this disk's sector 0 (dm-crypt `--skip`); 0 to 2^64 - 1. Default 0. */
  readonly ivOffset?: bigint;
  /** Inner sectors before the encrypted data (a Disk Lab crypt header; dm-crypt `--offset`). Default 0. */
  readonly dataOffsetSectors?: number;
}

/** Whether the sector at `offset` is all zero bytes (looks at words where alignment allows). */
function isZeroSector(buf: Uint8Array, offset: number, size: number): boolean {
  const start = buf.byteOffset + offset;
  if (start % 4 === 0) {
    const words = new Uint32Array(buf.buffer, start, size / 4);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }
  for (let i = offset; i < offset + size; i++) if (buf[i] !== 0) return false;
  return true;
}

export class CryptDisk extends ForwardingDisk {
  readonly #cipher: SectorCipher;
  readonly ivOffset: bigint;
  readonly dataOffsetSectors: number;

  constructor(inner: Disk, cipher: SectorCipher, options: CryptDiskOptions = {}) {
    super(inner);
    this.#cipher = cipher;
    const ivOffset = options.ivOffset ?? 0n;
    if (typeof ivOffset !== 'bigint' || ivOffset < 0n || ivOffset >= 2n ** 64n) {
      throw new DiskConfigError('INVALID_PARAMETER', 'ivOffset', `IV offset ${String(ivOffset)} is not an integer from 0 to 2^64 - 1`, { value: String(ivOffset) });
    }
    this.ivOffset = ivOffset;
    const offset = options.dataOffsetSectors ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > inner.sectorCount()) {
      throw new DiskConfigError('INVALID_PARAMETER', 'dataOffsetSectors', `data offset ${offset} is not a sector inside the inner disk`, { value: offset });
    }
    this.dataOffsetSectors = offset;
    if (inner.sectorSize > 4096) {
      // dm-crypt's limit too: an XTS data unit here is one sector, of 512 to 4096 bytes.
      throw new DiskConfigError('INVALID_PARAMETER', 'sectorSize', `encryption works on sectors of up to 4096 bytes, not ${inner.sectorSize}`, {
        value: inner.sectorSize,
      });
    }
  }

  // diskType changes: the stack view shows this layer as 'crypt'.
  override get diskType(): string {
    return 'crypt';
  }

  // unmapBehavior changes: an inner disk that reads unmapped sectors as zeroes returns zeroed
  // *ciphertext*. dm-crypt decrypts that to noise (stable: same key, same tweak); this class reads
  // it as zeroes (see the module doc). A guest cannot rely on either across both readers of the
  // image, so 'unspecified' is the honest promise. 'ignored' stays 'ignored': the old ciphertext
  // is still there and still decrypts to the old data.
  override get unmapBehavior(): UnmapBehavior {
    const inner = this.inner.unmapBehavior;
    return inner === 'zeroes' ? 'unspecified' : inner;
  }

  // diskId changes: the identity belongs to the container, not to the decrypted view of it.
  override get diskId(): Uint8Array | undefined {
    return undefined;
  }

  // sectorCount changes when a header precedes the data: it hides the header sectors.
  override sectorCount(): number {
    return this.inner.sectorCount() - this.dataOffsetSectors;
  }

  /** What the cipher is, for the stack view. */
  get cipherName(): string {
    return this.#cipher.name;
  }

  override async read(lba: number, buf: Uint8Array): Promise<void> {
    const count = buf.length / this.sectorSize;
    checkRange('read', lba, count, this.sectorCount());
    await this.inner.read(lba + this.dataOffsetSectors, buf);
    try {
      // Decrypt each run of sectors that are not all zero in one call (fewer copies into wasm).
      const size = this.sectorSize;
      let run = -1;
      for (let i = 0; i <= count; i++) {
        const zero = i < count && isZeroSector(buf, i * size, size);
        if (i < count && !zero) {
          if (run < 0) run = i;
          continue;
        }
        if (run >= 0) this.#cipher.decrypt(buf.subarray(run * size, i * size), BigInt(lba + run) + this.ivOffset, size);
        run = -1;
      }
    } catch (e) {
      throw asDiskError(e, `decrypting ${count} sector(s) at LBA ${lba}`);
    }
  }

  override async write(lba: number, data: Uint8Array, options?: WriteOptions): Promise<void> {
    const count = data.length / this.sectorSize;
    checkRange('write', lba, count, this.sectorCount());
    // A private copy: encrypting in place would hand the caller back ciphertext.
    const staging = data.slice();
    try {
      this.#cipher.encrypt(staging, BigInt(lba) + this.ivOffset, this.sectorSize);
    } catch (e) {
      throw asDiskError(e, `encrypting ${count} sector(s) at LBA ${lba}`);
    }
    return this.inner.write(lba + this.dataOffsetSectors, staging, options);
  }

  override async unmap(lba: number, count: number): Promise<void> {
    checkRange('unmap', lba, count, this.sectorCount());
    return this.inner.unmap(lba + this.dataOffsetSectors, count);
  }

  override async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.#cipher.dispose();
    }
  }

  protected override resizeInner(sectors: number): Promise<void> {
    return super.resizeInner(sectors + this.dataOffsetSectors);
  }
}
