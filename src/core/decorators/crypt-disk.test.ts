import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeXtsCipher } from '../../node/xts-wasm.ts';
import { RamDisk } from '../backends/ram-disk.ts';
import { openDisk } from '../disk/open-disk.ts';
import { DiskConfigError } from '../disk/errors.ts';
import { describeDiskConformance, expectDiskError, expectSameBytes, pattern } from '../testing/disk-conformance.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import type { SectorCipher } from '../ports/sector-cipher.ts';
import { CryptDisk } from './crypt-disk.ts';

const KEY = pattern(64, 42);

describeDiskConformance({
  name: 'CryptDisk over RamDisk',
  make: async ({ sectorSize, sectors, readOnly }) =>
    new CryptDisk(new RamDisk({ sectorSize, sectors, readOnly, chunkBytes: 8192 }), await nodeXtsCipher(KEY)),
});

describeDiskConformance({
  name: 'CryptDisk with a data offset and an IV offset past 2^64',
  make: async ({ sectorSize, sectors, readOnly }) => {
    const offset = 4096 / sectorSize;
    const inner = new RamDisk({ sectorSize, sectors: sectors + offset, readOnly, chunkBytes: 8192 });
    return new CryptDisk(inner, await nodeXtsCipher(KEY), { dataOffsetSectors: offset, ivOffset: 2n ** 64n - 5n });
  },
  maxSectors: (sectorSize) => Math.floor(Number.MAX_SAFE_INTEGER / sectorSize) - 4096 / sectorSize,
});

/** OpenSSL aes-256-xts of one sector with tweak `t`. */
function opensslSector(key: Uint8Array, plain: Uint8Array, t: bigint): Uint8Array {
  const tweak = Buffer.alloc(16);
  tweak.writeBigUInt64LE(t & (2n ** 64n - 1n), 0);
  tweak.writeBigUInt64LE(t >> 64n, 8);
  const c = createCipheriv('aes-256-xts', key, tweak);
  return new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
}

describe('CryptDisk', () => {
  it('stores exactly what OpenSSL aes-256-xts (dm-crypt aes-xts-plain64) makes of each sector', async () => {
    for (const sectorSize of [512, 4096]) {
      const inner = new RamDisk({ sectorSize, sectors: 64 });
      const disk = openDisk(new CryptDisk(inner, await nodeXtsCipher(KEY), { ivOffset: 1000n }));
      const data = pattern(9 * sectorSize, sectorSize);
      await disk.write(17, data);
      const stored = new Uint8Array(9 * sectorSize);
      await inner.read(17, stored);
      for (let i = 0; i < 9; i++) {
        const plain = data.subarray(i * sectorSize, (i + 1) * sectorSize);
        expectSameBytes(stored.subarray(i * sectorSize, (i + 1) * sectorSize), opensslSector(KEY, plain, 1000n + 17n + BigInt(i)), `sector ${17 + i}`);
      }
      const back = new Uint8Array(9 * sectorSize);
      await disk.read(17, back);
      expectSameBytes(back, data);
      await disk.close();
    }
  });

  it('turns zeroing unmaps into unspecified ones, and they read back stable', async () => {
    const inner = new RamDisk({ sectors: 32 });
    expect(inner.unmapBehavior).toBe('zeroes');
    const disk = new CryptDisk(inner, await nodeXtsCipher(KEY));
    expect(disk.unmapBehavior).toBe('unspecified');
    expect(disk.diskType).toBe('crypt');
    await disk.write(0, pattern(32 * 512, 3));
    await disk.unmap(4, 8);
    const a = new Uint8Array(8 * 512);
    const b = new Uint8Array(8 * 512);
    await disk.read(4, a);
    await disk.read(4, b);
    expectSameBytes(a, b, 'stable');
    // Zeroed ciphertext reads as zeroes here (dm-crypt would show noise: hence 'unspecified').
    expect(a.every((x) => x === 0)).toBe(true);
  });

  it('reads sectors whose ciphertext is all zero as zeroes, and decrypts the rest around them', async () => {
    const inner = new RamDisk({ sectors: 16 });
    const disk = new CryptDisk(inner, await nodeXtsCipher(KEY), { ivOffset: 3n });
    const data = pattern(16 * 512, 5);
    await disk.write(0, data);
    await inner.write(4, new Uint8Array(2 * 512)); // zeroed underneath the encryption
    await inner.write(9, new Uint8Array(512));
    const back = new Uint8Array(16 * 512);
    await disk.read(0, back);
    const expected = data.slice();
    expected.fill(0, 4 * 512, 6 * 512);
    expected.fill(0, 9 * 512, 10 * 512);
    expectSameBytes(back, expected);
    const unaligned = new Uint8Array(16 * 512 + 1).subarray(1); // the byte-wise zero check
    await disk.read(0, unaligned);
    expectSameBytes(unaligned, expected);
  });

  it('hides the header sectors and range-checks against the smaller size', async () => {
    const inner = new RamDisk({ sectors: 100 });
    const disk = new CryptDisk(inner, await nodeXtsCipher(KEY), { dataOffsetSectors: 8 });
    expect(disk.sectorCount()).toBe(92);
    await expectDiskError(disk.read(90, new Uint8Array(3 * 512)), 'OUT_OF_RANGE');
    await expectDiskError(disk.write(92, new Uint8Array(512)), 'OUT_OF_RANGE');
    await expectDiskError(disk.unmap(-1, 1), 'OUT_OF_RANGE');
    await disk.write(0, pattern(512, 1));
    const raw = new Uint8Array(512);
    await inner.read(0, raw);
    expect(raw.every((x) => x === 0)).toBe(true); // the header area is untouched
    await disk.resize!(50);
    expect(inner.sectorCount()).toBe(58);
    expect(() => new CryptDisk(inner, { name: 'x' } as SectorCipher, { dataOffsetSectors: 59 })).toThrow(DiskConfigError);
  });

  it('never writes into the caller’s data, even when the inner write fails', async () => {
    const inner = new RamDisk({ sectors: 16 });
    const disk = new CryptDisk(inner, await nodeXtsCipher(KEY));
    const data = pattern(4 * 512, 8);
    const copy = data.slice();
    await disk.write(0, data);
    expectSameBytes(data, copy);
    inner.write = () => Promise.reject(new Error('boom'));
    await expect(disk.write(0, data)).rejects.toThrow('boom');
    expectSameBytes(data, copy);
  });

  it('wipes the key on close', async () => {
    let disposed = 0;
    const cipher = await nodeXtsCipher(KEY);
    const spy: SectorCipher = {
      name: cipher.name,
      encrypt: (d, f, s) => cipher.encrypt(d, f, s),
      decrypt: (d, f, s) => cipher.decrypt(d, f, s),
      dispose: () => {
        disposed++;
        cipher.dispose();
      },
    };
    const disk = new CryptDisk(new RamDisk({ sectors: 8 }), spy);
    await disk.close();
    expect(disposed).toBe(1);
  });

  it('round-trips random writes of random sizes like a plain disk', async () => {
    const r = seededRandom(77);
    const plainModel = new RamDisk({ sectors: 256 });
    const disk = new CryptDisk(new RamDisk({ sectors: 256 }), await nodeXtsCipher(KEY), { ivOffset: 12345n });
    await disk.write(0, new Uint8Array(256 * 512));
    for (let i = 0; i < 200; i++) {
      const lba = Math.floor(r() * 250);
      const n = 1 + Math.floor(r() * Math.min(6, 256 - lba));
      const data = pattern(n * 512, i + 1);
      await disk.write(lba, data);
      await plainModel.write(lba, data);
    }
    const a = new Uint8Array(256 * 512);
    const b = new Uint8Array(256 * 512);
    await disk.read(0, a);
    await plainModel.read(0, b);
    expectSameBytes(a, b);
  });
});
