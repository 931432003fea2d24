/**
 * XTS-AES-256 throughput over 4 KiB sectors (16 MiB batches, tweak = sector number), encrypt and
 * decrypt, in Node, measured in the same run for:
 * - this project's wasm module (crates/xts: constant-time bitsliced AES on simd128), through its
 *   SectorCipher loader, so the copies into and out of wasm memory are counted;
 * - a pure-JS XTS built here on @noble/ciphers' AES-ECB (table-based AES, not constant-time);
 * - OpenSSL's aes-256-xts through node:crypto, one cipher object per sector (AES-NI: the ceiling).
 * Results are MB/s (10^6 bytes/s) with the ratio to OpenSSL. The first batch of each subject is
 * checked against OpenSSL's output, so a fast wrong cipher cannot report a number.
 *
 * For Chromium, bench/browser-suite.ts could run the same loop in a worker: import
 * browserXtsCipher from workers/platform/xts-wasm.ts and time cipher.encrypt over a 16 MiB
 * buffer, reporting MB/s beside this file's Node figure.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { unsafe as aes } from '@noble/ciphers/aes.js';
import { nodeXtsCipher } from '../src/node/xts-wasm.ts';
import { rate, result, type BenchResult, type Rate } from './harness.ts';

const SECTOR = 4096;
const BATCH = 16 * 1024 * 1024;
const SECTORS = BATCH / SECTOR;
const BUDGET_MS = 1500;

type Xts = (data: Uint8Array, firstSector: number) => void;

function tweakBytes(sector: number): Buffer {
  const t = Buffer.alloc(16);
  t.writeBigUInt64LE(BigInt(sector));
  return t;
}

function opensslXts(key: Uint8Array, encrypt: boolean): Xts {
  return (data, first) => {
    for (let s = 0; s < data.length / SECTOR; s++) {
      const part = data.subarray(s * SECTOR, (s + 1) * SECTOR);
      const c = encrypt ? createCipheriv('aes-256-xts', key, tweakBytes(first + s)) : createDecipheriv('aes-256-xts', key, tweakBytes(first + s));
      const out = c.update(part);
      c.final();
      part.set(out);
    }
  };
}

/**
 * IEEE 1619 XTS over @noble/ciphers' AES block function (its ECB core, `unsafe.encrypt/decrypt`
 * on little-endian words; the wrapped `ecb()` refuses reuse of a key): T = E_K2(i);
 * C_j = E_K1(P_j ^ T_j) ^ T_j; T_j+1 = T_j * alpha in GF(2^128).
 */
function nobleXts(key: Uint8Array, encrypt: boolean): Xts {
  const k1 = encrypt ? aes.expandKeyLE(key.subarray(0, 32)) : aes.expandKeyDecLE(key.subarray(0, 32));
  const k2 = aes.expandKeyLE(key.subarray(32));
  const block = encrypt ? aes.encrypt : aes.decrypt;
  return (buf, first) => {
    const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4); // little-endian hosts
    for (let s = 0; s < buf.length / SECTOR; s++) {
      const n = first + s;
      let t = aes.encrypt(k2, n >>> 0, Math.floor(n / 2 ** 32) >>> 0, 0, 0);
      let [t0, t1, t2, t3] = [t.s0, t.s1, t.s2, t.s3];
      for (let j = (s * SECTOR) / 4; j < ((s + 1) * SECTOR) / 4; j += 4) {
        t = block(k1, w[j]! ^ t0, w[j + 1]! ^ t1, w[j + 2]! ^ t2, w[j + 3]! ^ t3);
        w[j] = t.s0 ^ t0;
        w[j + 1] = t.s1 ^ t1;
        w[j + 2] = t.s2 ^ t2;
        w[j + 3] = t.s3 ^ t3;
        const carry = t3 >>> 31;
        t3 = (t3 << 1) | (t2 >>> 31);
        t2 = (t2 << 1) | (t1 >>> 31);
        t1 = (t1 << 1) | (t0 >>> 31);
        t0 = (t0 << 1) ^ (carry * 0x87);
      }
    }
  };
}

function mbps(r: Rate): Rate {
  return { ...r, perSecond: (r.perSecond * BATCH) / 1e6 };
}

function check(name: string, xts: Xts, reference: Xts, input: Uint8Array): void {
  const a = input.slice();
  const b = input.slice();
  xts(a, 1000);
  reference(b, 1000);
  if (!Buffer.from(a).equals(Buffer.from(b))) throw new Error(`bench: ${name} disagrees with OpenSSL aes-256-xts`);
}

export async function xtsBenchmarks(): Promise<BenchResult[]> {
  const key = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  const buf = new Uint8Array(BATCH).map((_, i) => (i * 13) & 0xff);
  const sample = buf.subarray(0, 8 * SECTOR);
  const wasm = await nodeXtsCipher(key);
  const results: BenchResult[] = [];
  for (const encrypt of [true, false]) {
    const op = encrypt ? 'encrypt' : 'decrypt';
    const openssl = opensslXts(key, encrypt);
    const subjects: [string, Xts][] = [
      ['crates/xts wasm (bitsliced, simd128)', (d, f) => (encrypt ? wasm.encrypt(d, BigInt(f), SECTOR) : wasm.decrypt(d, BigInt(f), SECTOR))],
      ['@noble/ciphers ECB + JS XTS', nobleXts(key, encrypt)],
    ];
    for (const [name, xts] of subjects) check(`${name} ${op}`, xts, openssl, sample);
    let sector = 0;
    const run = (xts: Xts) => () => {
      xts(buf, sector);
      sector = (sector + SECTORS) % 2 ** 40;
    };
    const baseline = mbps(await rate(run(openssl), BUDGET_MS, 1));
    for (const [name, xts] of subjects) {
      const r = mbps(await rate(run(xts), BUDGET_MS, 1));
      results.push(
        result(`xts ${op}: ${name}`, `XTS-AES-256 ${op} of 16 MiB batches of 4 KiB sectors, in Node`, 'MB/s', r, {
          name: `OpenSSL aes-256-xts (node:crypto) ${op}`,
          rate: baseline,
        }),
      );
    }
  }
  wasm.dispose();
  return results;
}

if (process.argv[1]?.endsWith('node-xts.ts')) {
  process.stdout.write(JSON.stringify(await xtsBenchmarks(), null, 2) + '\n');
}
