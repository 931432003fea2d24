import { describe, expect, it } from 'vitest';
import type { SyncFile } from '../ports/sync-file.ts';
import { detectFormat } from './detect.ts';
import { serializeVhdFooter } from './vhd/footer.ts';
import { fixedFooterFor } from './vhd/fixed.ts';

/** An in-memory SyncFile: detection only reads. */
function memFile(bytes: Uint8Array): SyncFile {
  return {
    size: () => bytes.length,
    read: (offset, into) => {
      into.fill(0);
      into.set(bytes.subarray(offset, offset + into.length));
    },
    write: () => {
      throw new Error('read-only');
    },
    truncate: () => {
      throw new Error('read-only');
    },
    flush: () => undefined,
    close: () => undefined,
  };
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('detectFormat', () => {
  const footer = serializeVhdFooter(fixedFooterFor(4096));

  it('finds a fixed VHD by the footer at the end', () => {
    expect(detectFormat(memFile(concat(new Uint8Array(4096), footer))).format).toBe('vhd');
  });

  it('finds a dynamic VHD by the footer copy at offset 0', () => {
    expect(detectFormat(memFile(concat(footer, new Uint8Array(3000)))).format).toBe('vhd');
  });

  it('finds VHDX and qcow2 by their magic at offset 0', () => {
    expect(detectFormat(memFile(concat(ascii('vhdxfile'), new Uint8Array(1000)))).format).toBe('vhdx');
    expect(detectFormat(memFile(concat(Uint8Array.of(0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3), new Uint8Array(100)))).format).toBe('qcow2');
  });

  it('calls everything else raw, including empty, tiny and near-miss files', () => {
    expect(detectFormat(memFile(new Uint8Array(0))).format).toBe('raw');
    expect(detectFormat(memFile(ascii('QFI'))).format).toBe('raw');
    expect(detectFormat(memFile(ascii('conectix'))).format).toBe('raw'); // too small to be a VHD
    expect(detectFormat(memFile(concat(new Uint8Array(600), ascii('conectix'), new Uint8Array(400)))).format).toBe('raw');
    expect(detectFormat(memFile(concat(new Uint8Array(4096), ascii('vhdxfile')))).format).toBe('raw');
  });

  it('wraps file errors as IO', () => {
    const broken = { ...memFile(new Uint8Array(10)), size: () => { throw new Error('gone'); } };
    expect(() => detectFormat(broken, 'x.img')).toThrow(/x\.img: detecting the format: gone/);
  });
});
