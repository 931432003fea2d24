import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeXtsCipher } from '../../node/xts-wasm.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { openDisk } from '../disk/open-disk.ts';
import { expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { createCryptHeader, CRYPT_HEADER_BYTES, hasCryptHeaderMagic, MIN_PBKDF2_ITERATIONS, parseCryptHeader, unlockCryptHeader } from './crypt-header.ts';
import { formatPassphraseCryptDisk, openKeyCryptDisk, openPassphraseCryptDisk } from './open-crypt.ts';
import { parseIvOffset } from './xts-key.ts';

const SALT = pattern(32, 1);

// One header for the whole file: each PBKDF2 at 600,000 iterations costs about a second.
const made = createCryptHeader('correct horse battery staple', { salt: SALT, ivOffset: 7n });

describe('Disk Lab crypt header (PBKDF2-SHA256 passphrase)', () => {
  it('derives the key with PBKDF2-HMAC-SHA256, 600,000 iterations, as OpenSSL computes it', async () => {
    const { header, key } = await made;
    const reference = pbkdf2Sync(Buffer.from('correct horse battery staple'), SALT, MIN_PBKDF2_ITERATIONS, 64, 'sha256');
    expectSameBytes(key, new Uint8Array(reference), 'derived key');
    expect(header.length).toBe(CRYPT_HEADER_BYTES);
    expect(hasCryptHeaderMagic(header)).toBe(true);
    const parsed = parseCryptHeader(header);
    expect(parsed.iterations).toBe(600_000);
    expect(parsed.ivOffset).toBe(7n);
    expectSameBytes(parsed.salt, SALT, 'salt');
    expect(header.subarray(108).every((b) => b === 0)).toBe(true);
  });

  it('unlocks with the right passphrase and says clearly when it is wrong', async () => {
    const { header, key } = await made;
    const parsed = parseCryptHeader(header);
    expectSameBytes(await unlockCryptHeader(parsed, 'correct horse battery staple'), key, 'unlocked key');
    const error = await unlockCryptHeader(parsed, 'correct horse battery stable').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskConfigError);
    expect((error as DiskConfigError).field).toBe('passphrase');
    expect((error as Error).message).toMatch(/wrong passphrase/);
  }, 20_000);

  it('tells a damaged or foreign header apart from a wrong passphrase', async () => {
    const { header } = await made;
    const cases: [string, (h: Uint8Array) => void][] = [
      ['magic', (h) => (h[0] = 0x41)],
      ['crc', (h) => (h[50] = h[50]! ^ 1)],
    ];
    for (const [field, damage] of cases) {
      const h = header.slice();
      damage(h);
      const e = (() => {
        try {
          parseCryptHeader(h);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(DiskError);
      expect((e as DiskError).code).toBe('CORRUPT_IMAGE');
      expect((e as DiskError).field).toBe(field);
    }
  });

  it('refuses fewer than 600,000 iterations, empty passphrases and bad IV offsets', async () => {
    await expect(createCryptHeader('pw', { iterations: 100_000 })).rejects.toThrow(/iterations/);
    await expect(createCryptHeader('')).rejects.toThrow(/empty/);
    expect(() => parseIvOffset('-1')).toThrow(DiskConfigError);
    expect(() => parseIvOffset((2n ** 64n).toString())).toThrow(DiskConfigError);
    expect(parseIvOffset('0x10')).toBe(16n);
  });

  it('formats an image with a passphrase and opens it again; a wrong passphrase opens nothing', async () => {
    const inner = new RamDisk({ sectors: 64 });
    const disk = await formatPassphraseCryptDisk(inner, 'swordfish', nodeXtsCipher);
    expect(disk.sectorCount()).toBe(56);
    const data = pattern(10 * 512, 4);
    await openDisk(disk).write(3, data);
    const header = new Uint8Array(CRYPT_HEADER_BYTES);
    await inner.read(0, header);
    expect(hasCryptHeaderMagic(header)).toBe(true);
    const again = await openPassphraseCryptDisk(inner, 'swordfish', nodeXtsCipher);
    const back = new Uint8Array(10 * 512);
    await again.read(3, back);
    expectSameBytes(back, data);
    await expect(openPassphraseCryptDisk(inner, 'swordfIsh', nodeXtsCipher)).rejects.toThrow(/wrong passphrase/);
    await expectDiskError(openPassphraseCryptDisk(new RamDisk({ sectors: 64 }), 'swordfish', nodeXtsCipher), 'CORRUPT_IMAGE');
  }, 30_000);

  it('opens with a key file key, refusing one with equal halves', async () => {
    const inner = new RamDisk({ sectors: 8 });
    await expect(openKeyCryptDisk(inner, new Uint8Array(64).fill(9), nodeXtsCipher)).rejects.toThrow(/halves are equal/);
    await expect(openKeyCryptDisk(inner, new Uint8Array(63), nodeXtsCipher)).rejects.toThrow(/64 bytes/);
    const disk = await openKeyCryptDisk(inner, pattern(64, 3), nodeXtsCipher, { ivOffset: 5n });
    expect(disk.ivOffset).toBe(5n);
  });
});
