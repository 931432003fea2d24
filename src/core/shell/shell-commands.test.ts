import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskShell } from './shell.ts';
import { MappedRamDisk, StepClock, shown } from './test-support.ts';

const QUARTER_SECOND = 250_000_000;

function shell(disk = new RamDisk({ sectors: 2048 }), options: ConstructorParameters<typeof DiskShell>[1] = {}) {
  const sh = new DiskShell(disk, { clock: new StepClock(QUARTER_SECOND), ...options });
  return {
    disk,
    sh,
    run: async (line: string) => {
      const r = await sh.run(line);
      return { ok: r.ok, lines: shown(r) };
    },
  };
}

describe('DiskShell read and write', () => {
  it('writes the default 0xcd pattern and reports like qemu-io, timed by the clock', async () => {
    const { run } = shell();
    expect(await run('write 0 4k')).toEqual({
      ok: true,
      lines: ['wrote 4096/4096 bytes at offset 0', '4 KiB, 1 ops; 00.25 sec (16 KiB/sec and 4.0000 ops/sec)'],
    });
    expect(await run('read -P 0xcd 0 4096')).toEqual({
      ok: true,
      lines: ['read 4096/4096 bytes at offset 0', '4 KiB, 1 ops; 00.25 sec (16 KiB/sec and 4.0000 ops/sec)'],
    });
  });

  it('dumps with -v: offset, hex bytes and letters/digits, partial last line unpadded', async () => {
    const { run } = shell();
    await run('write -P 0x41 100 20');
    expect((await run('read -v 96 26')).lines).toEqual([
      '00000060:  00 00 00 00 41 41 41 41 41 41 41 41 41 41 41 41  ....AAAAAAAAAAAA',
      '00000070:  41 41 41 41 41 41 41 41 00 00  AAAAAAAA..',
      'read 26/26 bytes at offset 96',
      '26 bytes, 1 ops; 00.25 sec (104 bytes/sec and 4.0000 ops/sec)',
    ]);
  });

  it('verifies a pattern with -P, over a -s/-l window, and reports a mismatch before the transfer line', async () => {
    const { run } = shell();
    await run('write -P 0x12 512 512');
    expect((await run('read -q -P 0x12 512 512')).ok).toBe(true);
    expect(await run('read -q -P 0x12 500 100')).toEqual({ ok: false, lines: ['Pattern verification failed at offset 500, 100 bytes'] });
    expect((await run('read -q -P 0x12 -s 12 -l 88 500 100')).ok).toBe(true);
    expect((await run('read -q -P 0x12 -s 100 500 100')).ok).toBe(true); // nothing left to verify, as in qemu-io
    expect(await run('read -P 0x12 -s 101 500 100')).toEqual({ ok: false, lines: ['pattern verification range exceeds end of read data'] });
    expect(await run('read -P 0x12 -s 90 -l 11 500 100')).toEqual({ ok: false, lines: ['pattern verification range exceeds end of read data'] });
    expect(await run('read -P 0x13 -s 12 -l 4 500 100')).toEqual({
      ok: false,
      lines: ['Pattern verification failed at offset 512, 4 bytes', 'read 100/100 bytes at offset 500', '100 bytes, 1 ops; 00.25 sec (400 bytes/sec and 4.0000 ops/sec)'],
    });
  });

  it('prints one CSV line with -C (after the dump with -v), nothing with -q, and ignores -p', async () => {
    const { run } = shell();
    expect(await run('read -C 0 512')).toEqual({ ok: true, lines: ['512,1,0:00:00.25,2048.000,4.000'] });
    expect(await run('write -C -P 1 0 512')).toEqual({ ok: true, lines: ['512,1,0:00:00.25,2048.000,4.000'] });
    expect((await run('read -C -v 0 2')).lines).toEqual(['00000000:  01 01  ..', '2,1,0:00:00.25,8.000,4.000']);
    expect(await run('read -q -v 0 2')).toEqual({ ok: true, lines: [] });
    expect(await run('write -q 0 2')).toEqual({ ok: true, lines: [] });
    expect((await run('read -p 0 1')).lines[0]).toBe('read 1/1 bytes at offset 0');
    expect((await run('write -p 0 1')).lines[0]).toBe('wrote 1/1 bytes at offset 0');
  });

  it('writes byte-granular data without disturbing the neighbours (read-modify-write)', async () => {
    const { run } = shell();
    await run('write -P 0x22 0 2k');
    expect((await run('write -q -P 0x11 500 30')).ok).toBe(true);
    expect((await run('read -q -P 0x22 0 500')).ok).toBe(true);
    expect((await run('read -q -P 0x11 500 30')).ok).toBe(true);
    expect((await run('read -q -P 0x22 530 1518')).ok).toBe(true);
  });

  it('writes zeroes with -z, unmapping whole sectors with -u, and passes FUA with -f', async () => {
    const disk = new MappedRamDisk({ sectors: 64 });
    const { run } = shell(disk);
    await run('write -q 0 8k');
    expect((await run('write -z 100 1000')).lines[0]).toBe('wrote 1000/1000 bytes at offset 100');
    expect((await run('read -q -P 0 100 1000')).ok).toBe(true);
    expect((await run('read -q -P 0xcd 1100 100')).ok).toBe(true);
    expect(disk.written.has(1)).toBe(true);
    await run('write -q -z -u 512 2048');
    expect([1, 2, 3, 4].map((s) => disk.written.has(s))).toEqual([false, false, false, false]);
    disk.fuaLog.length = 0;
    await run('write -q -f 0 512');
    await run('write -q 0 512');
    expect(disk.fuaLog).toEqual([true, false]);
  });

  it('refuses -z -n when the zeroes cannot simply be unmapped', async () => {
    const { run } = shell();
    expect((await run('write -q -z -u -n 512 512')).ok).toBe(true);
    const r = await run('write -z -n 512 512');
    expect(r.ok).toBe(false);
    expect(r.lines[0]).toMatch(/^write failed: zeroes cannot be written without the slow fallback/);
  });
});

describe('DiskShell discard, flush, truncate, length', () => {
  it('discards whole sectors and reports the bytes asked for', async () => {
    const { run } = shell();
    await run('write -q 0 4k');
    expect(await run('discard 1k 2k')).toEqual({
      ok: true,
      lines: ['discard 2048/2048 bytes at offset 1024', '2 KiB, 1 ops; 00.25 sec (8 KiB/sec and 4.0000 ops/sec)'],
    });
    expect((await run('read -q -P 0 1k 2k')).ok).toBe(true);
    expect((await run('read -q -P 0xcd 0 1k')).ok).toBe(true);
    expect(await run('discard -q 0 1')).toEqual({ ok: true, lines: [] });
    expect(await run('discard -C 0 512')).toEqual({ ok: true, lines: ['512,1,0:00:00.25,2048.000,4.000'] });
  });

  it('flushes silently', async () => {
    expect(await shell().run('flush')).toEqual({ ok: true, lines: [] });
  });

  it('truncates to whole sectors on resizable disks, and says why not otherwise', async () => {
    const { run } = shell();
    expect(await run('truncate 2M')).toEqual({ ok: true, lines: [] });
    expect(await run('length')).toEqual({ ok: true, lines: ['2 MiB'] });
    expect(await run('truncate 1000')).toEqual({ ok: false, lines: ['truncate failed: 1000 bytes is not a whole number of 512-byte sectors'] });
    const fixed = new RamDisk({ sectors: 8 });
    Object.defineProperty(fixed, 'resize', { value: undefined });
    expect(await shell(fixed).run('truncate 8k')).toEqual({ ok: false, lines: ["truncate failed: disk 'ram' cannot change size"] });
    const ro = new RamDisk({ sectors: 8, readOnly: true });
    expect(await shell(ro).run('truncate 8k')).toEqual({ ok: false, lines: ["truncate failed: resize: disk 'ram' is read-only"] });
  });

  it('prints the length as qemu-io does', async () => {
    expect((await shell(new RamDisk({ sectors: 3 })).run('length')).lines).toEqual(['1.500 KiB']);
  });
});

describe('DiskShell map and alloc', () => {
  it('shows a disk without an allocation map as one allocated range', async () => {
    const { run } = shell();
    expect(await run('map')).toEqual({ ok: true, lines: ['1 MiB (0x100000) bytes     allocated at offset 0 bytes (0x0)'] });
    expect(await run('alloc 1000 100')).toEqual({ ok: true, lines: ['100/100 bytes allocated at offset 1000 bytes'] });
    expect(await shell(new RamDisk({ sectors: 0 })).run('map')).toEqual({ ok: true, lines: [] });
  });

  it('lists allocated and unallocated ranges from describeMap', async () => {
    const disk = new MappedRamDisk({ sectors: 20480 }); // 10 MiB
    const { run } = shell(disk);
    await run('write -q 64k 4k');
    await run('write -q 3000000 1000');
    expect((await run('map')).lines).toEqual([
      '64 KiB (0x10000) bytes not allocated at offset 0 bytes (0x0)',
      '4 KiB (0x1000) bytes     allocated at offset 64 KiB (0x10000)',
      '2.794 MiB (0x2cb600) bytes not allocated at offset 68 KiB (0x11000)',
      '1.500 KiB (0x600) bytes     allocated at offset 2.861 MiB (0x2dc600)',
      '7.138 MiB (0x723400) bytes not allocated at offset 2.862 MiB (0x2dcc00)',
    ]);
    expect((await run('alloc 0')).lines).toEqual(['0/512 bytes allocated at offset 0 bytes']);
    expect((await run('alloc 60k 8k')).lines).toEqual(['4096/8192 bytes allocated at offset 60 KiB']);
    expect((await run('alloc 66000 100')).lines).toEqual(['100/100 bytes allocated at offset 64.453 KiB']);
    expect((await run('alloc 10485000 1000')).lines).toEqual(['0/760 bytes allocated at offset 9.999 MiB']);
    expect((await run('alloc 10M')).lines).toEqual(['0/0 bytes allocated at offset 10 MiB']);
    expect(await run('alloc 10485761')).toEqual({ ok: false, lines: ['alloc failed: offset 10485761 is beyond the end of a disk of 10485760 bytes'] });
  });

  it('prefers options.map, and reports a bad or failing map as a map failure', async () => {
    const sectors = 16;
    const liar = { describeMap: async () => [{ lba: 4, count: 2 }, { lba: 5, count: 1 }] };
    const { run } = shell(new RamDisk({ sectors }), { map: liar });
    expect(await run('map')).toEqual({
      ok: false,
      lines: ['map failed: describeMap returned an invalid run #1 (LBA 5, 1 sectors): overlaps or precedes the run before it'],
    });
    const past = shell(new RamDisk({ sectors }), { map: { describeMap: async () => [{ lba: 10, count: 7 }] } });
    expect((await past.run('map')).lines).toEqual(['map failed: describeMap returned an invalid run #0 (LBA 10, 7 sectors): ends past the range end at LBA 16']);
    const failing = shell(new RamDisk({ sectors }), {
      map: {
        describeMap: async () => {
          throw new Error('layer 2 is gone');
        },
      },
    });
    expect(await failing.run('map')).toEqual({ ok: false, lines: ['map failed: layer 2 is gone'] });
    expect(await failing.run('alloc 0')).toEqual({ ok: false, lines: ['alloc failed: layer 2 is gone'] });
  });
});

describe('DiskShell info, help, trace', () => {
  it('describes the disk', async () => {
    const disk = new MappedRamDisk({ sectors: 4096, sectorSize: 4096 });
    Object.defineProperty(disk, 'diskId', { value: Uint8Array.from({ length: 16 }, (_, i) => i * 17) });
    expect(await shell(disk).run('info')).toEqual({
      ok: true,
      lines: [
        'format name: ram',
        'disk size: 16 MiB (16777216 bytes)',
        'sector size: 4096 bytes',
        'physical sector size: 4096 bytes',
        'sectors: 4096',
        'read-only: no',
        'disk id: 00112233-4455-6677-8899-aabbccddeeff',
        'fua respected: yes',
        'unmap behavior: zeroes',
        'optimal unmap: 16 sectors (64 KiB)',
        'resizable: yes',
        'persistent reservations: no',
        'allocation map: yes',
      ],
    });
    const ro = (await shell(new RamDisk({ sectors: 1, readOnly: true })).run('info')).lines;
    expect(ro).toContain('read-only: yes');
    expect(ro).toContain('disk id: none');
    expect(ro).toContain('allocation map: no');
  });

  it('lists every command, and explains one', async () => {
    const { sh, run } = shell();
    const all = await run('help');
    expect(all.lines).toHaveLength(sh.commandNames.length + 2);
    expect(all.lines).toContain('read [-Cqv] [-P pattern [-s off] [-l len]] off len -- reads a number of bytes at a specified offset');
    expect(all.lines).toContain('flush  -- flush all in-core disk state to stable storage');
    expect(all.lines.at(-1)).toBe("Use 'help commandname' for extended help.");
    const one = await run('help write');
    expect(one.lines[0]).toBe('write [-Cfnquz] [-P pattern] off len -- writes a number of bytes at a specified offset');
    expect(one.lines).toContain(' -f, -- use Force Unit Access semantics');
    for (const name of sh.commandNames) expect((await run(`help ${name}`)).ok).toBe(true);
  });

  it('traces the Disk calls a command becomes, until turned off', async () => {
    const { run } = shell();
    expect(await run('trace')).toEqual({ ok: true, lines: ['trace is off'] });
    expect(await run('trace on')).toEqual({ ok: true, lines: [] });
    expect((await run('write -q -f 100 1000')).lines).toEqual(['trace: read lba=0 count=1', 'trace: read lba=2 count=1', 'trace: write lba=0 count=3 fua']);
    expect((await run('write -q -z -u 0 1k')).lines).toEqual(['trace: unmap lba=0 count=2']);
    expect((await run('flush')).lines).toEqual(['trace: flush']);
    expect(await run('trace')).toEqual({ ok: true, lines: ['trace is on'] });
    await run('trace off');
    expect((await run('write -q 100 10')).lines).toEqual([]);
  });
});
