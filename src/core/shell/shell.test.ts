import { describe, expect, it } from 'vitest';
import { DiskShell } from './shell.ts';
import { LayeredDisk } from '../layered/layered-disk.ts';
import { RamLayer } from '../layered/ram-layer.ts';
import { DiskLayer } from '../layered/disk-layer.ts';
import { RamDisk } from '../backends/ram-disk.ts';

describe('DiskShell over a LayeredDisk', () => {
  it('maps what the top layer holds, and reads through to the base', async () => {
    const sectors = 2048; // 1 MiB
    const base = new RamDisk({ sectors });
    await base.write(0, new Uint8Array(512).fill(0x11));
    const stack = new LayeredDisk([{ layer: new RamLayer({ sectors }) }, { layer: new DiskLayer(base) }]);
    const shell = new DiskShell(stack, { map: stack });
    const r = await shell.runAll(['write -P 0xab 4096 4096', 'write -P 0xcd 65536 512', 'map', 'read -P 0x11 0 512']);
    expect(r.ok).toBe(true);
    const map = r.lines.map((l) => l.text).filter((t) => t.includes('allocated at offset'));
    expect(map).toEqual([
      '4 KiB (0x1000) bytes not allocated at offset 0 bytes (0x0)',
      '4 KiB (0x1000) bytes     allocated at offset 4 KiB (0x1000)',
      '56 KiB (0xe000) bytes not allocated at offset 8 KiB (0x2000)',
      '512 bytes (0x200) bytes     allocated at offset 64 KiB (0x10000)',
      '959.500 KiB (0xefe00) bytes not allocated at offset 64.500 KiB (0x10200)',
    ]);
    const baseByte = new Uint8Array(512);
    await base.read(8, baseByte);
    expect(baseByte.every((b) => b === 0)).toBe(true); // the write went to the top layer only
  });
});
