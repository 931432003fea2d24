import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeXtsCipher } from '../node/xts-wasm.ts';
import { resolveSpec } from './resolve-spec.ts';
import { DiskConfigError } from './disk/errors.ts';
import { expectSameBytes, pattern } from './testing/disk-conformance.ts';
import { memorySpecPlatform } from './testing/memory-spec-platform.ts';
import { describeSpec, redactSpec, type DiskSpec } from './spec.ts';

/** Every OPFS path opens `bytes` in place. */
function platformOver(bytes: Uint8Array, withCipher = true) {
  return memorySpecPlatform({ files: () => bytes, ...(withCipher && { extra: { cipher: nodeXtsCipher } }) });
}

const KEY = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);

function opensslDecrypt(key: Uint8Array, data: Uint8Array, first: bigint, sectorSize: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let off = 0; off < data.length; off += sectorSize) {
    const tweak = Buffer.alloc(16);
    tweak.writeBigUInt64LE(first + BigInt(off / sectorSize), 0);
    const d = createDecipheriv('aes-256-xts', key, tweak);
    out.set(Buffer.concat([d.update(data.subarray(off, off + sectorSize)), d.final()]), off);
  }
  return out;
}

describe('resolveSpec crypt', () => {
  it('a key-file crypt spec writes dm-crypt aes-xts-plain64 ciphertext (checked by OpenSSL) with the IV offset', async () => {
    const image = new Uint8Array(64 * 512);
    const { platform } = platformOver(image);
    const spec: DiskSpec = { kind: 'crypt', inner: { kind: 'opfs', path: 'x.img', format: 'raw' }, key: { keyFile: KEY }, ivOffset: '0x10' };
    const { disk, root } = await resolveSpec(spec, platform);
    expect(root.role).toBe('decorator');
    expect(root.children.map((c) => c.id)).toEqual(['n.0']);
    expect(disk.sectorCount()).toBe(64);
    const data = pattern(4 * 512, 5);
    await disk.write(3, data);
    const stored = image.slice(3 * 512, 7 * 512);
    expect(stored).not.toEqual(data);
    expectSameBytes(opensslDecrypt(KEY, stored, 3n + 16n, 512), data);
    const back = new Uint8Array(4 * 512);
    await disk.read(3, back);
    expectSameBytes(back, data);
    await disk.close();
  });

  it('a passphrase header is created, reopened with the passphrase, and a wrong passphrase is refused and closes the file', async () => {
    const image = new Uint8Array(64 * 512);
    const inner: DiskSpec = { kind: 'opfs', path: 'x.img', format: 'raw' };
    const first = platformOver(image);
    const made = await resolveSpec({ kind: 'crypt', inner, key: { passphrase: 'correct horse', create: true } }, first.platform);
    expect(made.disk.sectorCount()).toBe(64 - 8); // the 4 KiB header is hidden
    const data = pattern(512, 9);
    await made.disk.write(0, data);
    await made.disk.close();
    expect(new TextDecoder().decode(image.subarray(0, 7))).toBe('DLCRYPT');

    const again = await resolveSpec({ kind: 'crypt', inner, key: { passphrase: 'correct horse' } }, platformOver(image).platform);
    const back = new Uint8Array(512);
    await again.disk.read(0, back);
    expectSameBytes(back, data);
    await again.disk.close();

    const wrong = platformOver(image);
    const err = await resolveSpec({ kind: 'crypt', inner, key: { passphrase: 'battery staple' } }, wrong.platform).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DiskConfigError);
    expect((err as DiskConfigError).field).toBe('passphrase');
    expect((err as Error).message).toMatch(/wrong passphrase/);
    expect(wrong.files.every((f) => f.closed)).toBe(true);
  }, 20_000);

  it("refuses 'held-by-worker' keys and platforms without a cipher, closing what it opened", async () => {
    const image = new Uint8Array(16 * 512);
    const inner: DiskSpec = { kind: 'opfs', path: 'x.img', format: 'raw' };
    const held = platformOver(image);
    await expect(resolveSpec({ kind: 'crypt', inner, key: 'held-by-worker' }, held.platform)).rejects.toMatchObject({ problem: 'INVALID_PARAMETER', field: 'key' });
    expect(held.files[0]?.closed).toBe(true);
    const none = platformOver(image, false);
    await expect(resolveSpec({ kind: 'crypt', inner, key: { keyFile: KEY } }, none.platform)).rejects.toMatchObject({ problem: 'UNSUPPORTED_FORMAT' });
    expect(none.files[0]?.closed).toBe(true);
  });
});

describe('redactSpec', () => {
  it('replaces every crypt key, however deep, and keeps everything else', () => {
    const ram: DiskSpec = { kind: 'ram', sectors: 8 };
    const spec: DiskSpec = {
      kind: 'metered',
      inner: {
        kind: 'layered',
        layers: [
          { kind: 'ram-layer' },
          { kind: 'disk-layer', disk: { kind: 'crypt', inner: { kind: 'striped', members: [ram, { kind: 'crypt', inner: ram, key: { keyFile: KEY } }] }, key: { passphrase: 'hunter2', create: true }, ivOffset: '7' } },
        ],
      },
    };
    const red = redactSpec(spec);
    const json = JSON.stringify(red);
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('keyFile');
    expect(json.match(/held-by-worker/g)).toHaveLength(2);
    expect(json).toContain('"ivOffset":"7"');
    expect(redactSpec(ram)).toBe(ram);
    expect(describeSpec({ kind: 'crypt', inner: ram, key: 'held-by-worker' })).toMatch(/XTS-AES-256/);
  });
});
