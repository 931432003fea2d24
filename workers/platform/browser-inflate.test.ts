import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { browserInflate } from './browser-inflate.ts';

describe('browserInflate', () => {
  const plain = new Uint8Array(65536).map((_, i) => (i * 7) % 251);
  const packed = new Uint8Array(deflateRawSync(plain));

  it('decodes exactly the asked length, ignoring sector padding after the end marker', async () => {
    const padded = new Uint8Array(Math.ceil((packed.length + 1) / 512) * 512);
    padded.set(packed);
    padded.fill(0xa5, packed.length);
    expect(await browserInflate.inflateRaw(padded, plain.length)).toEqual(plain);
  });

  it('rejects a stream that ends before the asked length', async () => {
    await expect(browserInflate.inflateRaw(packed, plain.length + 512)).rejects.toThrow(/ended after 65536/);
  });

  it('rejects garbage', async () => {
    await expect(browserInflate.inflateRaw(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 4096)).rejects.toThrow();
  });
});
