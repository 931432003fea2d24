/**
 * Building a CryptDisk from a key or a passphrase: the one place that decides which key unlocks
 * which image, so the resolver (page) and the CLI agree. The cipher comes from a factory so core
 * stays free of how the wasm is fetched (src/node/xts-wasm.ts, workers/platform/xts-wasm.ts).
 *
 * - Key file: a 64-byte key, no header; the image is plain dm-crypt aes-xts-plain64.
 * - Passphrase: a Disk Lab crypt header (crypt-header.ts) in the first 4096 bytes, data after it.
 * The key never leaves these functions except inside the cipher; copies they make are zeroed.
 * Errors: see xts-key.ts and crypt-header.ts; I/O errors of the inner disk pass through.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import type { SectorCipher } from '../ports/sector-cipher.ts';
import { CryptDisk } from '../decorators/crypt-disk.ts';
import { createCryptHeader, CRYPT_HEADER_BYTES, parseCryptHeader, unlockCryptHeader, type CreateHeaderOptions } from './crypt-header.ts';
import { checkXtsKey } from './xts-key.ts';

export type CipherFactory = (key: Uint8Array) => Promise<SectorCipher>;

function headerSectors(inner: Disk): number {
  if (inner.sectorSize > CRYPT_HEADER_BYTES) {
    throw new DiskConfigError('INVALID_PARAMETER', 'sectorSize', `XTS sectors are at most ${CRYPT_HEADER_BYTES} bytes, the disk has ${inner.sectorSize}`, {
      value: inner.sectorSize,
    });
  }
  const sectors = CRYPT_HEADER_BYTES / inner.sectorSize;
  if (inner.sectorCount() < sectors) {
    throw new DiskConfigError('SIZE_MISMATCH', 'sectorCount', `a ${inner.sectorCount()}-sector disk cannot hold the ${CRYPT_HEADER_BYTES}-byte crypt header`);
  }
  return sectors;
}

/** A CryptDisk over `inner` keyed by a 64-byte key (a key file), like dm-crypt plain mode. */
export async function openKeyCryptDisk(inner: Disk, key: Uint8Array, cipherFor: CipherFactory, options: { ivOffset?: bigint } = {}): Promise<CryptDisk> {
  checkXtsKey(key);
  return new CryptDisk(inner, await cipherFor(key), options.ivOffset === undefined ? {} : { ivOffset: options.ivOffset });
}

/** Writes a new crypt header for `passphrase` at the start of `inner` and returns the encrypted view after it. */
export async function formatPassphraseCryptDisk(inner: Disk, passphrase: string, cipherFor: CipherFactory, options: CreateHeaderOptions = {}): Promise<CryptDisk> {
  const sectors = headerSectors(inner);
  const { header, key } = await createCryptHeader(passphrase, options);
  try {
    const cipher = await cipherFor(key);
    await inner.write(0, header, { fua: true });
    return new CryptDisk(inner, cipher, { dataOffsetSectors: sectors, ivOffset: options.ivOffset ?? 0n });
  } finally {
    key.fill(0);
  }
}

/** Opens an image made by `formatPassphraseCryptDisk`; a wrong passphrase is a clear DiskConfigError. */
export async function openPassphraseCryptDisk(inner: Disk, passphrase: string, cipherFor: CipherFactory): Promise<CryptDisk> {
  const sectors = headerSectors(inner);
  const bytes = new Uint8Array(CRYPT_HEADER_BYTES);
  await inner.read(0, bytes);
  const header = parseCryptHeader(bytes);
  const key = await unlockCryptHeader(header, passphrase);
  try {
    return new CryptDisk(inner, await cipherFor(key), { dataOffsetSectors: sectors, ivOffset: header.ivOffset });
  } finally {
    key.fill(0);
  }
}
