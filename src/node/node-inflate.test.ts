import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nodeInflate } from './node-inflate.ts';

describe('nodeInflate', () => {
  const data = new Uint8Array(65536).map((_, i) => (i * 7) % 251);
  const packed = new Uint8Array(deflateRawSync(data));

  it('decodes exactly the requested length, ignoring trailing bytes', async () => {
    const padded = new Uint8Array(packed.length + 300).fill(0xa5);
    padded.set(packed);
    expect(await nodeInflate.inflateRaw(padded, data.length)).toEqual(data);
  });
  it('returns only the first bytes of a stream that holds more', async () => {
    expect(await nodeInflate.inflateRaw(packed, 4096)).toEqual(data.subarray(0, 4096));
  });
  it('rejects short and malformed streams', async () => {
    await expect(nodeInflate.inflateRaw(packed, data.length + 1)).rejects.toThrow();
    await expect(nodeInflate.inflateRaw(new Uint8Array([0xff, 0xff, 0xff]), 512)).rejects.toThrow();
  });
});
