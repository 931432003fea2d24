/**
 * The Disk Lab crypt header: what lets a passphrase (instead of a 64-byte key file) open an image
 * Disk Lab encrypted. It occupies the first 4096 bytes of the inner disk; the encrypted data
 * (aes-xts-plain64, exactly as with a key file) follows it. Keys come from PBKDF2-HMAC-SHA256 via
 * WebCrypto with a random 32-byte salt and at least 600,000 iterations (OWASP's 2023 figure).
 *
 * Layout (little-endian; bytes 108..4095 are zero):
 *
 *   offset size  field
 *        0    8  magic "DLCRYPT\0"
 *        8    2  version: 1
 *       10    2  header size in bytes: 4096
 *       12    4  cipher: 1 = aes-xts-plain64, 512-bit key (data key then tweak key)
 *       16    4  KDF: 1 = PBKDF2-HMAC-SHA256, 64-byte output
 *       20    4  KDF iterations
 *       24    8  payload offset in bytes: 4096 (the data's sector 0)
 *       32    8  IV offset: the tweak of the data's sector 0
 *       40   32  salt (random)
 *       72   32  key check value: SHA-256("disklab crypt key check v1" || key)
 *      104    4  CRC-32C of bytes 0..103
 *
 * The key check value makes a wrong passphrase a clear error instead of garbage; it costs an
 * attacker nothing they would not spend anyway (each guess still needs the full PBKDF2). The CRC
 * tells a damaged header (CORRUPT_IMAGE) apart from a wrong passphrase. With the derived key in a
 * file, `cryptsetup open --type plain -c aes-xts-plain64 -s 512 --key-file K --offset 8 --skip S`
 * opens the data (512-byte sectors, S = the IV offset).
 *
 * Errors: a header that is not one, or is damaged or unsupported, is `DiskError('CORRUPT_IMAGE')`
 * naming the field; a wrong passphrase, or too few iterations at creation, is
 * `DiskConfigError('INVALID_PARAMETER')` with field 'passphrase' or 'iterations'.
 */
import { crc32c } from '../checksum/crc32c.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { checkXtsKey, parseIvOffset, XTS_KEY_BYTES } from './xts-key.ts';

export const CRYPT_HEADER_BYTES = 4096;
export const MIN_PBKDF2_ITERATIONS = 600_000;
/** Refuse to spend hours on a hostile header's iteration count. */
export const MAX_PBKDF2_ITERATIONS = 50_000_000;

const MAGIC = new TextEncoder().encode('DLCRYPT\0');
const VERSION = 1;
const CIPHER_AES_XTS_PLAIN64 = 1;
const KDF_PBKDF2_SHA256 = 1;
const CRC_AT = 104;
const KCV_LABEL = new TextEncoder().encode('disklab crypt key check v1');

export interface CryptHeader {
  readonly version: number;
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly payloadOffsetBytes: number;
  readonly ivOffset: bigint;
  readonly keyCheck: Uint8Array;
}

export interface CreateHeaderOptions {
  readonly iterations?: number;
  readonly ivOffset?: bigint;
  /** For tests only: a fixed salt instead of a random one. */
  readonly salt?: Uint8Array;
}

/** Whether `bytes` starts with the header magic (for "is this image a Disk Lab crypt image?"). */
export function hasCryptHeaderMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

async function deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, XTS_KEY_BYTES * 8);
  return new Uint8Array(bits);
}

async function keyCheckValue(key: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(KCV_LABEL.length + key.length);
  input.set(KCV_LABEL);
  input.set(key, KCV_LABEL.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  input.fill(0);
  return digest;
}

/** A new header for `passphrase` and the key it unlocks (random salt). */
export async function createCryptHeader(passphrase: string, options: CreateHeaderOptions = {}): Promise<{ header: Uint8Array; key: Uint8Array }> {
  const iterations = options.iterations ?? MIN_PBKDF2_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new DiskConfigError('INVALID_PARAMETER', 'iterations', `PBKDF2 iterations must be from ${MIN_PBKDF2_ITERATIONS} to ${MAX_PBKDF2_ITERATIONS}, not ${iterations}`, {
      value: iterations,
    });
  }
  if (passphrase.length === 0) throw new DiskConfigError('INVALID_PARAMETER', 'passphrase', 'the passphrase is empty');
  const ivOffset = parseIvOffset(options.ivOffset ?? 0n);
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(32));
  if (salt.length !== 32) throw new DiskConfigError('INVALID_PARAMETER', 'salt', 'the salt must be 32 bytes', { value: salt.length });
  const key = await deriveKey(passphrase, salt, iterations);
  // Astronomically unlikely, but a key XTS refuses must fail here, not at first use.
  checkXtsKey(key, 'the derived key');
  const header = new Uint8Array(CRYPT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  view.setUint16(8, VERSION, true);
  view.setUint16(10, CRYPT_HEADER_BYTES, true);
  view.setUint32(12, CIPHER_AES_XTS_PLAIN64, true);
  view.setUint32(16, KDF_PBKDF2_SHA256, true);
  view.setUint32(20, iterations, true);
  view.setBigUint64(24, BigInt(CRYPT_HEADER_BYTES), true);
  view.setBigUint64(32, ivOffset, true);
  header.set(salt, 40);
  header.set(await keyCheckValue(key), 72);
  view.setUint32(CRC_AT, crc32c(header.subarray(0, CRC_AT)), true);
  return { header, key };
}

/** Parses and validates a header (its first 4096 bytes, or at least the first 108). */
export function parseCryptHeader(bytes: Uint8Array): CryptHeader {
  const corrupt = (field: string, why: string): never => {
    throw new DiskError('CORRUPT_IMAGE', `crypt header: ${why}`, { field });
  };
  if (bytes.length < CRC_AT + 4) corrupt('size', `${bytes.length} bytes is too short`);
  if (!hasCryptHeaderMagic(bytes)) corrupt('magic', 'no "DLCRYPT" magic: not a Disk Lab encrypted image');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(CRC_AT, true) !== crc32c(bytes.subarray(0, CRC_AT))) corrupt('crc', 'checksum mismatch: the header is damaged');
  const version = view.getUint16(8, true);
  if (version !== VERSION) corrupt('version', `version ${version} is not supported (this build reads version ${VERSION})`);
  if (view.getUint16(10, true) !== CRYPT_HEADER_BYTES) corrupt('headerSize', `header size ${view.getUint16(10, true)} is not ${CRYPT_HEADER_BYTES}`);
  if (view.getUint32(12, true) !== CIPHER_AES_XTS_PLAIN64) corrupt('cipher', `cipher id ${view.getUint32(12, true)} is not aes-xts-plain64`);
  if (view.getUint32(16, true) !== KDF_PBKDF2_SHA256) corrupt('kdf', `KDF id ${view.getUint32(16, true)} is not PBKDF2-SHA256`);
  const iterations = view.getUint32(20, true);
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) corrupt('iterations', `${iterations} PBKDF2 iterations is out of range`);
  const payload = view.getBigUint64(24, true);
  if (payload !== BigInt(CRYPT_HEADER_BYTES)) corrupt('payloadOffset', `payload offset ${payload} is not ${CRYPT_HEADER_BYTES}`);
  return {
    version,
    iterations,
    salt: bytes.slice(40, 72),
    payloadOffsetBytes: CRYPT_HEADER_BYTES,
    ivOffset: view.getBigUint64(32, true),
    keyCheck: bytes.slice(72, 104),
  };
}

/** The key `passphrase` unlocks, or a clear error when it is the wrong passphrase. */
export async function unlockCryptHeader(header: CryptHeader, passphrase: string): Promise<Uint8Array> {
  const key = await deriveKey(passphrase, header.salt, header.iterations);
  const check = await keyCheckValue(key);
  let diff = 0;
  for (let i = 0; i < check.length; i++) diff |= (check[i] ?? 0) ^ (header.keyCheck[i] ?? 0);
  if (diff !== 0) {
    key.fill(0);
    throw new DiskConfigError('INVALID_PARAMETER', 'passphrase', 'wrong passphrase: it does not unlock this encrypted image (key check value mismatch)');
  }
  return key;
}
