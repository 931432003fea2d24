import { createDecipheriv } from 'node:crypto';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../node/testing/temp-files.ts';
import { expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { runDisklab as run } from './testing/run-cli.ts';

const { dir, at } = useTempDir('disklab-convert-crypt-');

const KEY = pattern(64, 77);
const IV_OFFSET = 5n;
const SIZE = 512 * 1024;

/** Random-looking data with a zero gap, so zero blocks must be encrypted too. */
const SOURCE = (() => {
  const d = pattern(SIZE, 3);
  d.fill(0, SIZE / 4, SIZE / 2);
  return d;
})();

/** OpenSSL's aes-256-xts, one 512-byte sector at a time, tweak = sector + IV offset (dm-crypt plain64). */
function opensslDecryptImage(image: Uint8Array, key: Uint8Array, ivOffset: bigint): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let off = 0; off < image.length; off += 512) {
    const tweak = Buffer.alloc(16);
    tweak.writeBigUInt64LE(BigInt(off / 512) + ivOffset, 0);
    const d = createDecipheriv('aes-256-xts', key, tweak);
    out.set(Buffer.concat([d.update(image.subarray(off, off + 512)), d.final()]), off);
  }
  return out;
}

fs.writeFileSync(at('source.raw'), SOURCE);
fs.writeFileSync(at('k.key'), KEY);

describe('disklab convert --encrypt-key-file / --decrypt-key-file', () => {
  it('encrypts every sector (zero blocks included) so OpenSSL aes-256-xts decrypts it sector by sector to the original', async () => {
    const r = await run('convert', '-f', 'raw', '-O', 'raw', '--encrypt-key-file', at('k.key'), '--iv-offset', String(IV_OFFSET), at('source.raw'), at('enc.raw'));
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const enc = new Uint8Array(fs.readFileSync(at('enc.raw')));
    expect(enc.length).toBe(SIZE);
    // The zero gap is ciphertext, not zero bytes (a skipped block would decrypt to noise in dm-crypt).
    expect(enc.subarray(SIZE / 4, SIZE / 4 + 512).some((b) => b !== 0)).toBe(true);
    expectSameBytes(opensslDecryptImage(enc, KEY, IV_OFFSET), SOURCE);
  });

  it('--decrypt-key-file round-trips to the original, and a wrong IV offset does not', async () => {
    const r = await run('convert', '-f', 'raw', '--decrypt-key-file', at('k.key'), '--iv-offset', '5', at('enc.raw'), at('dec.raw'));
    expect(r.status).toBe(0);
    expectSameBytes(new Uint8Array(fs.readFileSync(at('dec.raw'))), SOURCE);
    expect((await run('convert', '-f', 'raw', '--decrypt-key-file', at('k.key'), at('enc.raw'), at('wrong.raw'))).status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(at('wrong.raw')), Buffer.from(SOURCE))).not.toBe(0);
  });

  it('re-keys in one pass when both keys are given', async () => {
    const other = pattern(64, 78);
    fs.writeFileSync(at('k2.key'), other);
    const r = await run('convert', '-f', 'raw', '--decrypt-key-file', at('k.key'), '--encrypt-key-file', at('k2.key'), '--iv-offset', '5', at('enc.raw'), at('rekeyed.raw'));
    expect(r.status).toBe(0);
    expectSameBytes(opensslDecryptImage(new Uint8Array(fs.readFileSync(at('rekeyed.raw'))), other, IV_OFFSET), SOURCE);
  });

  it('refuses a bad key file before creating anything', async () => {
    fs.writeFileSync(at('hex.key'), Buffer.from(KEY).toString('hex'));
    const r = await run('convert', '-f', 'raw', '--encrypt-key-file', at('hex.key'), at('source.raw'), at('never.raw'));
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/hex text/);
    expect(fs.readdirSync(dir).some((f) => f.includes('never'))).toBe(false);
    expect((await run('convert', '-f', 'raw', '--iv-offset', '3', at('source.raw'), at('never.raw'))).err).toMatch(/--iv-offset needs/);
  });
});
