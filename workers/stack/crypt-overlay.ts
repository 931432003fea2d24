/**
 * Making a crypt overlay for a live stack: turns an `OverlaySpec` of kind 'crypt' and its
 * `OverlaySecret` (workers/api.ts) into the overlay's lasting state, a cipher plus the layout of
 * the data (compose.ts builds the CryptDisk from it on every recomposition).
 *
 * Promises
 * - The key decisions are those of src/core/crypto/open-crypt.ts (the resolver and CLI use the same
 *   functions): a new passphrase writes a crypt header at sector 0 of `below`, an existing one is
 *   opened and a wrong passphrase refused, a key file is plain dm-crypt with the given IV offset.
 * - The secret is used once: a key file's bytes are zeroed before this returns (whatever happens),
 *   the passphrase is not kept, and only the cipher holds the key.
 * Errors: DiskConfigError('INVALID_PARAMETER', 'secret') when the secret does not match the spec;
 * the crypt functions' own errors (wrong passphrase, CORRUPT_IMAGE header, bad key); the write of
 * a new header fails as `below` fails (READ_ONLY when nothing below can take it).
 */
import type { Disk } from '../../src/core/disk/disk.ts';
import { DiskConfigError } from '../../src/core/disk/errors.ts';
import { formatPassphraseCryptDisk, openKeyCryptDisk, openPassphraseCryptDisk, type CipherFactory } from '../../src/core/crypto/open-crypt.ts';
import { parseIvOffset } from '../../src/core/crypto/xts-key.ts';
import type { SectorCipher } from '../../src/core/ports/sector-cipher.ts';
import type { OverlaySecret, OverlaySpec } from '../api.ts';
import type { CryptState } from './compose.ts';

export type CryptOverlaySpec = Extract<OverlaySpec, { kind: 'crypt' }>;

export async function makeCryptState(spec: CryptOverlaySpec, secret: OverlaySecret | undefined, below: Disk, cipherFor: CipherFactory): Promise<CryptState> {
  const keyFile = secret !== null && typeof secret === 'object' && 'keyFile' in secret ? secret.keyFile : undefined;
  try {
    // The CryptDisk these functions return is only looked at: closing it would close `below`.
    let cipher: SectorCipher | undefined;
    const capture: CipherFactory = async (key) => (cipher = await cipherFor(key));
    let made;
    try {
      if (spec.key === 'key-file') {
        if (!(keyFile instanceof Uint8Array)) throw badSecret('a key-file encryption layer needs the key file bytes');
        made = await openKeyCryptDisk(below, keyFile, capture, { ivOffset: parseIvOffset(spec.ivOffset ?? '0') });
      } else if (spec.key === 'passphrase') {
        const passphrase = secret !== null && typeof secret === 'object' && 'passphrase' in secret ? secret.passphrase : undefined;
        if (typeof passphrase !== 'string') throw badSecret('a passphrase encryption layer needs the passphrase');
        made = spec.create
          ? await formatPassphraseCryptDisk(below, passphrase, capture, spec.ivOffset === undefined ? {} : { ivOffset: parseIvOffset(spec.ivOffset) })
          : await openPassphraseCryptDisk(below, passphrase, capture);
      } else {
        throw new DiskConfigError('INVALID_PARAMETER', 'key', `encryption key source '${String(spec.key)}' is not 'passphrase' or 'key-file'`, { value: spec.key });
      }
    } catch (e) {
      (cipher as SectorCipher | undefined)?.dispose();
      throw e;
    }
    return {
      cipher: cipher!,
      dataOffsetSectors: made.dataOffsetSectors,
      ivOffset: made.ivOffset,
      keyWord: spec.key === 'key-file' ? 'key file' : 'passphrase header',
    };
  } finally {
    if (keyFile instanceof Uint8Array) keyFile.fill(0);
  }
}

function badSecret(why: string): DiskConfigError {
  return new DiskConfigError('INVALID_PARAMETER', 'secret', why);
}
