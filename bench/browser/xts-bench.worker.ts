/**
 * XTS-AES-256 throughput in Chromium, in a dedicated worker as the disk worker runs it (the bench
 * page starts this worker and posts nothing; the worker posts `{ log }` lines, then `{ figures }`
 * or `{ error }`): encrypt and decrypt of 16 MiB
 * batches of 4 KiB sectors (tweak = sector number, dm-crypt plain64), measured in the same page
 * for this project's wasm module (crates/xts through its SectorCipher loader, as the disk worker
 * uses it, so copies into and out of wasm memory count) and for a pure-JS XTS on @noble/ciphers'
 * AES block function (its ECB core; table-based, not constant-time). Figures are MB/s (10^6 B/s).
 *
 * Before timing, each direction of both subjects is run on the same 32 KiB and must agree
 * byte for byte (two independent implementations), and decrypt must invert encrypt, so a fast
 * wrong cipher reports nothing. OpenSSL has no browser build: the Node bench (bench/node-xts.ts)
 * gives the ratio to it on the same machine.
 */
import { unsafe as aes } from '@noble/ciphers/aes.js';
import { browserXtsCipher } from '../../workers/platform/xts-wasm.ts';
import type { BrowserFigure } from '../browser-protocol.ts';

const SECTOR = 4096;
const BATCH = 16 * 1024 * 1024;
const BUDGET_MS = 1500;
const WARMUP_MS = 300;

type Xts = (data: Uint8Array, firstSector: number) => void;

/** IEEE 1619 XTS over the AES block function on little-endian words: T = E_K2(i); C = E_K1(P ^ T) ^ T; T *= alpha. */
function jsXts(key: Uint8Array, encrypt: boolean): Xts {
  const k1 = encrypt ? aes.expandKeyLE(key.subarray(0, 32)) : aes.expandKeyDecLE(key.subarray(0, 32));
  const k2 = aes.expandKeyLE(key.subarray(32));
  const block = encrypt ? aes.encrypt : aes.decrypt;
  return (buf, first) => {
    const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4); // browsers are little-endian
    const perSector = SECTOR / 4;
    for (let s = 0; s < buf.length / SECTOR; s++) {
      const n = first + s;
      const t = aes.encrypt(k2, n >>> 0, Math.floor(n / 2 ** 32) >>> 0, 0, 0);
      let t0 = t.s0, t1 = t.s1, t2 = t.s2, t3 = t.s3;
      for (let j = s * perSector; j < (s + 1) * perSector; j += 4) {
        const o = block(k1, w[j]! ^ t0, w[j + 1]! ^ t1, w[j + 2]! ^ t2, w[j + 3]! ^ t3);
        w[j] = o.s0 ^ t0;
        w[j + 1] = o.s1 ^ t1;
        w[j + 2] = o.s2 ^ t2;
        w[j + 3] = o.s3 ^ t3;
        const carry = t3 >>> 31;
        t3 = (t3 << 1) | (t2 >>> 31);
        t2 = (t2 << 1) | (t1 >>> 31);
        t1 = (t1 << 1) | (t0 >>> 31);
        t0 = (t0 << 1) ^ (carry * 0x87);
      }
    }
  };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs `xts` over the batch for about BUDGET_MS and returns MB/s. It first runs for WARMUP_MS
 * untimed: Chromium starts wasm in its baseline compiler (Liftoff) and swaps in optimised code
 * from a background thread, which on a busy 2-core machine can take most of a single warm-up
 * batch, so without this the first subject measured partly measures the baseline compiler.
 */
function measure(name: string, xts: Xts, buf: Uint8Array): BrowserFigure {
  let sector = 0;
  const warm = performance.now();
  do {
    xts(buf, sector);
    sector = (sector + BATCH / SECTOR) % 2 ** 40;
  } while (performance.now() - warm < WARMUP_MS);
  let batches = 0;
  const start = performance.now();
  let now = start;
  while (now - start < BUDGET_MS) {
    sector = (sector + BATCH / SECTOR) % 2 ** 40;
    xts(buf, sector);
    batches++;
    now = performance.now();
  }
  const seconds = (now - start) / 1000;
  return { name, unit: 'MB/s', value: (batches * BATCH) / 1e6 / seconds, ops: batches * (BATCH / SECTOR), seconds };
}

async function xtsFigures(log: (line: string) => void): Promise<BrowserFigure[]> {
  const key = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  const buf = new Uint8Array(BATCH).map((_, i) => (i * 13) & 0xff);
  const wasm = await browserXtsCipher(key);
  try {
    const subjects: Record<'wasm' | 'noble', Record<'encrypt' | 'decrypt', Xts>> = {
      wasm: { encrypt: (d, f) => wasm.encrypt(d, BigInt(f), SECTOR), decrypt: (d, f) => wasm.decrypt(d, BigInt(f), SECTOR) },
      noble: { encrypt: jsXts(key, true), decrypt: jsXts(key, false) },
    };
    const sample = buf.slice(0, 8 * SECTOR);
    const enc = { wasm: sample.slice(), noble: sample.slice() };
    subjects.wasm.encrypt(enc.wasm, 1000);
    subjects.noble.encrypt(enc.noble, 1000);
    if (!same(enc.wasm, enc.noble) || same(enc.wasm, sample)) throw new Error('xts bench: the wasm and JS ciphers disagree on encryption');
    const dec = { wasm: enc.wasm.slice(), noble: enc.noble.slice() };
    subjects.wasm.decrypt(dec.wasm, 1000);
    subjects.noble.decrypt(dec.noble, 1000);
    if (!same(dec.wasm, sample) || !same(dec.noble, sample)) throw new Error('xts bench: decryption does not invert encryption');

    const figures: BrowserFigure[] = [];
    for (const op of ['encrypt', 'decrypt'] as const) {
      for (const who of ['wasm', 'noble'] as const) {
        log(`  xts ${op} (${who})…`);
        figures.push(measure(`xts-${who}-${op}-4k`, subjects[who][op], buf));
      }
    }
    return figures;
  } finally {
    wasm.dispose();
  }
}

xtsFigures((log) => postMessage({ log })).then(
  (figures) => postMessage({ figures }),
  (e: unknown) => postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
);
