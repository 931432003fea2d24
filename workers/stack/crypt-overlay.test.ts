import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LiveStack } from './live-stack.ts';
import { BlobRangeSource } from '../platform/blob-range-source.ts';
import type { SpecPlatform } from '../../src/core/resolve-spec.ts';
import { DiskConfigError, DiskError } from '../../src/core/disk/errors.ts';
import { compileXtsModule, createXtsCipher } from '../../src/core/crypto/wasm-xts.ts';
import { fixedFooterFor } from '../../src/core/formats/vhd/fixed.ts';
import { serializeVhdFooter } from '../../src/core/formats/vhd/footer.ts';
import { expectSameBytes, pattern } from '../../src/core/testing/disk-conformance.ts';
import type { SectorCipher } from '../../src/core/ports/sector-cipher.ts';

const wasm = compileXtsModule(new Uint8Array(readFileSync(new URL('../../crates/xts/prebuilt/xts.wasm', import.meta.url))));
const made: SectorCipher[] = [];
const platform: SpecPlatform = {
  openFile: () => Promise.reject(new DiskError('UNSUPPORTED', 'no OPFS in this test')),
  blobSource: (blob, name) => new BlobRangeSource(blob, name),
  cipher: async (key) => {
    const c = await createXtsCipher(await wasm, key);
    made.push(c);
    return c;
  },
};

const SECTORS = 64;
const base = pattern(SECTORS * 512, 21);

function sample(): Blob {
  const image = new Uint8Array(base.length + 512);
  image.set(base);
  image.set(serializeVhdFooter(fixedFooterFor(base.length, { now: 0 })), base.length);
  return new Blob([image]);
}

const open = () => LiveStack.open('s1', 'sample', { kind: 'blob', blob: sample(), name: 'sample.vhd' }, platform);

describe('LiveStack crypt overlays', () => {
  it('a new passphrase layer over a read-only image adds a RAM diff for its header; ciphertext below, plaintext on top; no secret in the info', async () => {
    const stack = await open();
    const info = await stack.addOverlay({ kind: 'crypt', key: 'passphrase', create: true }, { passphrase: 'open sesame' });
    expect(info.readOnly).toBe(false);
    expect(info.sectorCount).toBe(SECTORS - 8);
    expect(info.crypt).toMatchObject({ cipher: 'aes-xts-plain64', dataOffsetSectors: 8, ivOffset: '0' });
    expect(info.tree).toMatchObject({ role: 'decorator', removable: true, children: [{ role: 'layered', children: [{ removable: true }, {}] }] });
    expect(JSON.stringify(info)).not.toContain('open sesame');

    const r = await stack.runShell('write -P 0x5a 0 512');
    expect(r.ok).toBe(true);
    const top = await stack.readSectors(0, 1);
    expect(top.view).toBe('top');
    expect(top.data.every((b) => b === 0x5a)).toBe(true);
    expect(top.sourceLayer[0]).toBe(0); // the RAM diff holds the ciphertext of sector 0 at inner sector 8
    const below = await stack.readSectors(0, 1, 'below-crypt');
    expect(below.innerLba).toBe(8);
    expect(below.sourceLayer[0]).toBe(0);
    expect(below.data.some((b) => b !== 0x5a)).toBe(true);
    await stack.close();
  }, 20_000);

  it('reopens the header with the passphrase after the layer is removed, refuses a wrong one, and wipes removed ciphers', async () => {
    const stack = await open();
    const first = await stack.addOverlay({ kind: 'crypt', key: 'passphrase', create: true }, { passphrase: 'right' });
    await stack.runShell('write -P 0x77 1536 1024');
    const cryptId = first.crypt!.nodeId;
    const cipher = made.at(-1)!;
    const after = await stack.removeOverlay(cryptId);
    expect(after.crypt).toBeUndefined();
    expect(() => cipher.encrypt(new Uint8Array(512), 0n, 512)).toThrow(DiskError); // disposed
    const headerSector = await stack.readSectors(0, 1);
    expect(new TextDecoder().decode(headerSector.data.subarray(0, 7))).toBe('DLCRYPT');

    const wrong = await stack.addOverlay({ kind: 'crypt', key: 'passphrase' }, { passphrase: 'wrong' }).then(() => undefined, (e: unknown) => e);
    expect(wrong).toBeInstanceOf(DiskConfigError);
    expect((wrong as Error).message).toMatch(/wrong passphrase/);
    expect(stack.info().crypt).toBeUndefined();

    await stack.addOverlay({ kind: 'crypt', key: 'passphrase' }, { passphrase: 'right' });
    const back = await stack.readSectors(3, 2);
    expect(back.data.every((b) => b === 0x77)).toBe(true);
    await stack.close();
  }, 30_000);

  it('a key-file layer is plain aes-xts-plain64 with its IV offset (OpenSSL decrypts the sector below) and zeroes the key it was sent', async () => {
    const stack = await open();
    await stack.addOverlay({ kind: 'ram-diff' });
    const key = pattern(64, 5);
    const sent = key.slice();
    const info = await stack.addOverlay({ kind: 'crypt', key: 'key-file', ivOffset: '0x20' }, { keyFile: sent });
    expect(sent.every((b) => b === 0)).toBe(true);
    expect(info.sectorCount).toBe(SECTORS);
    expect(info.crypt?.ivOffset).toBe('32');
    await stack.runShell('write -P 0x11 2048 512');
    const below = await stack.readSectors(4, 1, 'below-crypt');
    expect(below.innerLba).toBe(4);
    const tweak = Buffer.alloc(16);
    tweak.writeBigUInt64LE(4n + 32n, 0);
    const d = createDecipheriv('aes-256-xts', key, tweak);
    expectSameBytes(new Uint8Array(Buffer.concat([d.update(below.data), d.final()])), new Uint8Array(512).fill(0x11));
    await stack.close();
  });

  it('refuses missing or mismatched secrets, and below-crypt without a crypt layer', async () => {
    const stack = await open();
    await expect(stack.addOverlay({ kind: 'crypt', key: 'passphrase', create: true })).rejects.toMatchObject({ field: 'secret' });
    await expect(stack.addOverlay({ kind: 'crypt', key: 'key-file' }, { passphrase: 'x' })).rejects.toMatchObject({ field: 'secret' });
    await expect(stack.addOverlay({ kind: 'ram-diff' }, { passphrase: 'x' })).rejects.toMatchObject({ field: 'secret' });
    await expect(stack.readSectors(0, 1, 'below-crypt')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(stack.overlays).toHaveLength(0);
    await stack.close();
  });
});
