/**
 * Disk images the UI specs drop on the page, made at test time: a raw image with a recognisable
 * pattern per sector, and the same data as fixed/dynamic VHD and VHDX written by qemu-img (an independent
 * implementation of the format, so the lab's reader is checked against someone else's writer).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SECTOR = 512;

/** `sectors` sectors; sector n starts with "LBA <n>" in ASCII and is filled with byte (n * 7 + seed) & 0xff. */
export function rawImage(sectors: number, seed = 1): Buffer {
  const data = Buffer.alloc(sectors * SECTOR);
  for (let n = 0; n < sectors; n++) {
    data.fill((n * 7 + seed) & 0xff, n * SECTOR, (n + 1) * SECTOR);
    data.write(`LBA ${n}`, n * SECTOR, 'ascii');
  }
  return data;
}

/** The raw bytes as a fixed VHD (data, then the 512-byte footer), exactly the same size of data. */
export function fixedVhd(raw: Buffer): Buffer {
  // force_size keeps the virtual size exact instead of rounding it to a CHS geometry.
  return qemuConvert(raw, ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on']);
}

/** The raw bytes as a dynamic VHD written by qemu-img (sparse: blocks of zeroes are not stored). */
export function dynamicVhd(raw: Buffer): Buffer {
  return qemuConvert(raw, ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on']);
}

/** The raw bytes as a dynamic VHDX written by qemu-img. */
export function vhdx(raw: Buffer): Buffer {
  return qemuConvert(raw, ['-O', 'vhdx']);
}

/** The raw bytes as a compressed qcow2 written by qemu-img (every cluster deflated). */
export function compressedQcow2(raw: Buffer): Buffer {
  return qemuConvert(raw, ['-c', '-O', 'qcow2']);
}

function qemuConvert(raw: Buffer, args: readonly string[]): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'disklab-e2e-'));
  try {
    const rawPath = path.join(dir, 'in.raw');
    const outPath = path.join(dir, 'out.img');
    writeFileSync(rawPath, raw);
    execFileSync('qemu-img', ['convert', '-f', 'raw', ...args, rawPath, outPath]);
    return readFileSync(outPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
