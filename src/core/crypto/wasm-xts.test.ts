import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeXtsModule, XTS_WASM_PATH } from '../../node/xts-wasm.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { expectSameBytes } from '../testing/disk-conformance.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { CHUNK_BYTES, createXtsCipher } from './wasm-xts.ts';

interface Ieee1619 {
  key1: string;
  key2: string;
  vectors: { vector: number; dataUnitSequenceNumber: string; ciphertext: string }[];
}
const ieee = JSON.parse(
  readFileSync(new URL('../../../crates/xts/tests/ieee1619-xts-aes-256.json', import.meta.url), 'utf8'),
) as Ieee1619;

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/** OpenSSL's aes-256-xts over each sector separately, tweak = sector number, 16 bytes little-endian. */
function openssl(encrypt: boolean, key: Uint8Array, data: Uint8Array, first: bigint, sectorSize: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let off = 0; off < data.length; off += sectorSize) {
    const tweak = Buffer.alloc(16);
    const t = first + BigInt(off / sectorSize);
    tweak.writeBigUInt64LE(t & (2n ** 64n - 1n), 0);
    tweak.writeBigUInt64LE(t >> 64n, 8);
    const c = encrypt ? createCipheriv('aes-256-xts', key, tweak) : createDecipheriv('aes-256-xts', key, tweak);
    const part = Buffer.concat([c.update(data.subarray(off, off + sectorSize)), c.final()]);
    out.set(part, off);
  }
  return out;
}

function randomBytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

describe('XTS-AES-256 wasm module (crates/xts) through the SectorCipher loader', () => {
  it('is the committed artifact, loaded from ' + XTS_WASM_PATH.split('/').slice(-3).join('/'), async () => {
    await expect(nodeXtsModule()).resolves.toBeDefined();
  });

  it('matches IEEE 1619-2007 vectors 10-14 in both directions', async () => {
    const cipher = await createXtsCipher(await nodeXtsModule(), hex(ieee.key1 + ieee.key2));
    const plain = new Uint8Array(512).map((_, i) => i & 0xff);
    expect(ieee.vectors.map((v) => v.vector)).toEqual([10, 11, 12, 13, 14]);
    for (const v of ieee.vectors) {
      const buf = plain.slice();
      cipher.encrypt(buf, BigInt(v.dataUnitSequenceNumber), 512);
      expectSameBytes(buf, hex(v.ciphertext), `vector ${v.vector} encrypt`);
      cipher.decrypt(buf, BigInt(v.dataUnitSequenceNumber), 512);
      expectSameBytes(buf, plain, `vector ${v.vector} decrypt`);
    }
    cipher.dispose();
  });

  it('agrees with OpenSSL aes-256-xts for thousands of random keys, tweaks and sector sizes, both ways', async () => {
    const module = await nodeXtsModule();
    const r = seededRandom(0x1619);
    let cases = 0;
    for (let k = 0; k < 150; k++) {
      const key = randomBytes(r, 64);
      const cipher = await createXtsCipher(module, key);
      for (let c = 0; c < 14; c++, cases++) {
        const sectorSize = [512, 1024, 2048, 4096][Math.floor(r() * 4)] ?? 512;
        const sectors = 1 + Math.floor(r() * 3);
        // Tweaks across the whole 64-bit range, some near 2^32 and 2^64 where carries happen.
        const hi = BigInt(Math.floor(r() * 2 ** 32));
        const lo = BigInt(Math.floor(r() * 2 ** 32));
        const first = [(hi << 32n) | lo, lo, 2n ** 32n - 1n, 2n ** 64n - BigInt(sectors)][c % 4] ?? 0n;
        const plain = randomBytes(r, sectors * sectorSize);
        const buf = plain.slice();
        cipher.encrypt(buf, first, sectorSize);
        expectSameBytes(buf, openssl(true, key, plain, first, sectorSize), `encrypt case ${cases}`);
        const theirs = randomBytes(r, sectors * sectorSize);
        const mine = theirs.slice();
        cipher.decrypt(mine, first, sectorSize);
        expectSameBytes(mine, openssl(false, key, theirs, first, sectorSize), `decrypt case ${cases}`);
      }
      cipher.dispose();
    }
    expect(cases).toBe(2100);
  });

  it('processes buffers larger than its working chunk with the right tweak per sector', async () => {
    const key = randomBytes(seededRandom(5), 64);
    const cipher = await createXtsCipher(await nodeXtsModule(), key);
    const plain = randomBytes(seededRandom(6), CHUNK_BYTES * 2 + 3 * 4096);
    const buf = plain.slice();
    cipher.encrypt(buf, 123456789n, 4096);
    expectSameBytes(buf, openssl(true, key, plain, 123456789n, 4096), 'multi-chunk');
    cipher.decrypt(buf, 123456789n, 4096);
    expectSameBytes(buf, plain, 'multi-chunk round trip');
    cipher.dispose();
  });

  it('takes tweaks past 2^64 (sector number plus IV offset), like the 128-bit tweak of IEEE 1619', async () => {
    const key = randomBytes(seededRandom(7), 64);
    const cipher = await createXtsCipher(await nodeXtsModule(), key);
    const plain = randomBytes(seededRandom(8), 3 * 512);
    const first = 2n ** 64n - 2n; // sectors 2^64-2, 2^64-1, 2^64
    const buf = plain.slice();
    cipher.encrypt(buf, first, 512);
    expectSameBytes(buf, openssl(true, key, plain, first, 512), 'tweak crossing 2^64');
    cipher.dispose();
  });

  it('refuses keys with equal halves or the wrong length, and bad requests', async () => {
    const module = await nodeXtsModule();
    const equal = new Uint8Array(64).fill(0x5a);
    await expect(createXtsCipher(module, equal)).rejects.toThrow(DiskConfigError);
    await expect(createXtsCipher(module, new Uint8Array(32).fill(1))).rejects.toThrow(/64 bytes/);
    const cipher = await createXtsCipher(module, randomBytes(seededRandom(9), 64));
    expect(() => cipher.encrypt(new Uint8Array(1000), 0n, 512)).toThrow(DiskError);
    expect(() => cipher.encrypt(new Uint8Array(8192), 0n, 8192)).toThrow(/sector size/);
    expect(() => cipher.encrypt(new Uint8Array(512), -1n, 512)).toThrow(/tweak/);
    cipher.dispose();
    expect(() => cipher.encrypt(new Uint8Array(512), 0n, 512)).toThrow(/disposed/);
    cipher.dispose();
  });

  it('leaves neither the key nor the data in wasm memory after a call', async () => {
    const key = randomBytes(seededRandom(10), 64);
    const cipher = await createXtsCipher(await nodeXtsModule(), key);
    const marker = new Uint8Array(4096);
    for (let i = 0; i < marker.length; i++) marker[i] = (i * 7 + 3) & 0xff;
    const buf = marker.slice();
    cipher.encrypt(buf, 9n, 4096);
    const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;
    const memory = cipher.linearMemoryForTests();
    expect(contains(memory, marker.subarray(0, 64)), 'plaintext').toBe(false);
    expect(contains(memory, buf.subarray(0, 64)), 'ciphertext').toBe(false);
    expect(contains(memory, key.subarray(0, 32)), 'data key').toBe(false);
    expect(contains(memory, key.subarray(32)), 'tweak key').toBe(false);
  });
});
