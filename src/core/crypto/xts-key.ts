/**
 * XTS-AES-256 keys: 64 bytes, the data key (first half) then the tweak key (second half), exactly
 * the `--key-size 512` key of dm-crypt's `aes-xts-plain64` and the key of OpenSSL's aes-256-xts.
 *
 * Promise: `checkXtsKey` accepts exactly the keys the cipher can use. A key whose halves are equal
 * is refused (IEEE 1619-2007 5.1 and the Linux kernel's xts_verify_key: with K1 = K2 the tweak
 * encryption leaks), compared without an early exit so the check reveals nothing but its verdict.
 * Errors: `DiskConfigError('INVALID_PARAMETER', 'key')` naming what is wrong; never the key bytes.
 */
import { DiskConfigError } from '../disk/errors.ts';

export const XTS_KEY_BYTES = 64;

export function checkXtsKey(key: Uint8Array, what = 'key'): void {
  if (key.length !== XTS_KEY_BYTES) {
    throw new DiskConfigError('INVALID_PARAMETER', 'key', `${what} must be ${XTS_KEY_BYTES} bytes (XTS-AES-256: data key then tweak key), not ${key.length}`, {
      value: key.length,
    });
  }
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= (key[i] ?? 0) ^ (key[i + 32] ?? 0);
  if (diff === 0) {
    throw new DiskConfigError('INVALID_PARAMETER', 'key', `${what} is refused: its two 32-byte halves are equal, which XTS forbids`);
  }
}

/** Parses an IV offset (the tweak of the disk's first sector) from a decimal or 0x string. */
export function parseIvOffset(text: string | bigint | number): bigint {
  let value: bigint;
  try {
    value = typeof text === 'bigint' ? text : BigInt(typeof text === 'number' ? text : text.trim());
  } catch {
    value = -1n;
  }
  if (value < 0n || value >= 2n ** 64n || (typeof text === 'number' && !Number.isSafeInteger(text))) {
    throw new DiskConfigError('INVALID_PARAMETER', 'ivOffset', `IV offset ${String(text)} is not an integer from 0 to 2^64 - 1`, { value: String(text) });
  }
  return value;
}
