import { describe, expect, it } from 'vitest';
import { RamDisk } from '../backends/ram-disk.ts';
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import { DiskShell, type ShellLine } from './shell.ts';
import { StepClock, shown } from './test-support.ts';

function shell(disk = new RamDisk({ sectors: 2048 }), options: ConstructorParameters<typeof DiskShell>[1] = {}) {
  const sh = new DiskShell(disk, { clock: new StepClock(1_000_000), ...options });
  return async (line: string) => {
    const r = await sh.run(line);
    return { ok: r.ok, lines: shown(r) };
  };
}

const fail = (...lines: string[]) => ({ ok: false, lines });

describe('DiskShell: bad command lines, one line each', () => {
  const run = shell();

  it('names an unknown command, suggesting a close one and help', async () => {
    expect(await run('raed 0 1')).toEqual(fail('E: command "raed" not found; did you mean "read"? (\'help\' lists the commands)'));
    expect(await run('frobnicate')).toEqual(fail('E: command "frobnicate" not found (\'help\' lists the commands)'));
    expect(await run('help frob')).toEqual(fail("E: command frob not found; 'help' lists the commands"));
  });

  it('checks argument counts with qemu-io\'s words', async () => {
    expect(await run('read 0')).toEqual(fail('E: bad argument count 1 to read, expected at least 2 arguments'));
    expect(await run('write')).toEqual(fail('E: bad argument count 0 to write, expected at least 2 arguments'));
    expect(await run('discard 0')).toEqual(fail('E: bad argument count 1 to discard, expected at least 2 arguments'));
    expect(await run('flush 1')).toEqual(fail('E: bad argument count 1 to flush, expected 0 arguments'));
    expect(await run('length 1')).toEqual(fail('E: bad argument count 1 to length, expected 0 arguments'));
    expect(await run('alloc 0 1 2')).toEqual(fail('E: bad argument count 3 to alloc, expected between 1 and 2 arguments'));
    expect(await run('truncate')).toEqual(fail('E: bad argument count 0 to truncate, expected 1 arguments'));
  });

  it('gives the usage line when options leave the wrong number of arguments', async () => {
    expect(await run('read 0 1 2')).toEqual(fail('E: read: expected 2 arguments, got 3; usage: read [-Cqv] [-P pattern [-s off] [-l len]] off len'));
    expect(await run('read -v 0')).toEqual(fail('E: read: expected 2 arguments, got 1; usage: read [-Cqv] [-P pattern [-s off] [-l len]] off len'));
    expect(await run('write -z 0')).toEqual(fail('E: write: expected 2 arguments, got 1; usage: write [-Cfnquz] [-P pattern] off len'));
    expect(await run('discard -q 0')).toEqual(fail('E: discard: expected 2 arguments, got 1; usage: discard [-Cq] off len'));
    expect(await run('read -s 1 0 1')).toEqual(fail('E: read: -s and -l need -P; usage: read [-Cqv] [-P pattern [-s off] [-l len]] off len'));
    expect(await run('trace maybe')).toEqual(fail("E: trace: expected on or off, got 'maybe'; usage: trace [on|off]"));
  });

  it('names bad and missing options', async () => {
    expect(await run('read -k 0 1')).toEqual(fail("E: read: invalid option -- 'k'; 'help read' lists the options"));
    expect(await run('read 0 1 -P')).toEqual(fail("E: read: option requires an argument -- 'P'; 'help read' lists the options"));
    expect(await run('flush -q')).toEqual(fail('E: bad argument count 1 to flush, expected 0 arguments'));
    expect(await run('alloc -x 0')).toEqual(fail("E: alloc: invalid option -- 'x'; 'help alloc' lists the options"));
  });

  it('refuses qemu-io options that mean nothing for a Disk, saying why', async () => {
    expect(await run('read -b 0 1')).toEqual(fail("E: read: -b is not supported here: the lab's disks have no VM state"));
    expect(await run('read -a 0 1')).toEqual(fail('E: read: -a is not supported here: there is no asynchronous I/O in the shell'));
    expect(await run('write -b 0 1')).toEqual(fail("E: write: -b is not supported here: the lab's disks have no VM state"));
    expect(await run('write -c 0 1')).toEqual(fail('E: write: -c is not supported here: the Disk contract has no compressed writes'));
    expect(await run('write -s f 0 1')).toEqual(fail('E: write: -s is not supported here: the shell reads no files'));
  });

  it('reports bad numbers: non-numeric, negative, too large, longer than one request', async () => {
    expect(await run('read 0 1x')).toEqual(fail('Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- 1x'));
    expect(await run('read zero 1')).toEqual(fail('Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- zero'));
    expect(await run('read -5 1')).toEqual(fail('Parsing error: negative argument -- -5'));
    expect(await run('write 0 -1')).toEqual(fail('Parsing error: negative argument -- -1'));
    expect(await run('read 0 99999999999999999999')).toEqual(fail('Parsing error: argument too large -- 99999999999999999999'));
    expect(await run('read 0 3G')).toEqual(fail('length cannot exceed 2147483136, given 3G'));
    expect(await run('read -P 0 -s 1x 0 1')).toEqual(fail('Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- 1x'));
    expect(await run('read -P 0 -l -2 0 1')).toEqual(fail('Parsing error: negative argument -- -2'));
    expect(await run('truncate 1.5')).toEqual(fail('Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- 1.5'));
    expect(await run('alloc 0 1q')).toEqual(fail('Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- 1q'));
  });

  it('honours a smaller transfer limit', async () => {
    const small = shell(new RamDisk({ sectors: 2048 }), { maxTransferBytes: 65536 });
    expect(await small('write 0 64k')).toMatchObject({ ok: true });
    expect(await small('write 0 65537')).toEqual(fail('length cannot exceed 65536 without -n, given 65537'));
    expect(await small('write -z 0 65537')).toEqual(fail('length cannot exceed 65536 without -n, given 65537'));
    expect(await small('write -q -z -u -n 0 1M')).toEqual({ ok: true, lines: [] });
    expect(await small('read 0 65537')).toEqual(fail('length cannot exceed 65536, given 65537'));
    expect(await small('discard 0 65537')).toEqual(fail('length cannot exceed 65536, given 65537'));
  });

  it('reports bad patterns and flag combinations as qemu-io does', async () => {
    expect(await run('read -P 256 0 1')).toEqual(fail('256 is not a valid pattern byte'));
    expect(await run('write -P abc 0 1')).toEqual(fail('abc is not a valid pattern byte'));
    expect(await run('write -z -P 1 0 1')).toEqual(fail('Only one of -z, -P, and -s can be specified at the same time'));
    expect(await run('write -u 0 1')).toEqual(fail('-u requires -z to be specified'));
    expect(await run('write -n 0 1')).toEqual(fail('-n requires -z to be specified'));
  });

  it('reports a tokenizer problem', async () => {
    expect(await run("read '0 1")).toEqual(fail("E: unterminated ' quote starting at column 6"));
  });

  it('accepts quoted words, empty lines and comments', async () => {
    expect((await run('read "0" \'1k\'')).lines[0]).toBe('read 1024/1024 bytes at offset 0');
    expect(await run('')).toEqual({ ok: true, lines: [] });
    expect(await run('   # just a comment')).toEqual({ ok: true, lines: [] });
  });
});

class FaultyDisk extends RamDisk {
  override async read(lba: number, buf: Uint8Array): Promise<void> {
    if (lba <= 3 && lba + buf.length / 512 > 3) throw new DiskError('MEDIUM_ERROR', 'unrecovered read error at LBA 3', { lba: 3 });
    await super.read(lba, buf);
  }
  override async flush(): Promise<void> {
    throw new DiskError('IO', 'flush of the backing file failed: EIO');
  }
  override async unmap(): Promise<void> {
    throw 'a string, not an Error';
  }
}

describe('DiskShell: Disk failures print "<op> failed: <DiskError message>"', () => {
  it('reports the range error for I/O beyond the end, without touching the disk', async () => {
    const run = shell(new RamDisk({ sectors: 2048 }));
    expect(await run('read 1048000 1000')).toEqual(fail('read failed: read of 3 sector(s) at LBA 2046 is beyond the end of a disk of 2048 sectors'));
    expect(await run('write 1M 1')).toEqual(fail('write failed: write of 1 sector(s) at LBA 2048 is beyond the end of a disk of 2048 sectors'));
    expect(await run('write -z 1M 1')).toEqual(fail('write failed: write of 1 sector(s) at LBA 2048 is beyond the end of a disk of 2048 sectors'));
    expect(await run('discard 1048000 1000')).toEqual(fail('discard failed: unmap of 3 sector(s) at LBA 2046 is beyond the end of a disk of 2048 sectors'));
    expect(await run('read 1048577 0')).toEqual(fail('read failed: read of 0 sector(s) at LBA 2049 is beyond the end of a disk of 2048 sectors'));
    expect((await run('read 1048576 0')).lines[0]).toBe('read 0/0 bytes at offset 1048576');
  });

  it('reports read-only, medium and I/O errors, and errors that are not even Errors', async () => {
    const ro = shell(new RamDisk({ sectors: 8, readOnly: true }));
    expect(await ro('write 0 512')).toEqual(fail("write failed: write: disk 'ram' is read-only"));
    expect(await ro('discard 0 512')).toEqual(fail("discard failed: unmap: disk 'ram' is read-only"));
    const run = shell(new FaultyDisk({ sectors: 8 }));
    expect(await run('read 0 4k')).toEqual(fail('read failed: unrecovered read error at LBA 3'));
    expect(await run('write 1600 10')).toEqual(fail('write failed: unrecovered read error at LBA 3'));
    expect(await run('flush')).toEqual(fail('flush failed: flush of the backing file failed: EIO'));
    expect(await run('discard 0 512')).toEqual(fail('discard failed: a string, not an Error'));
    expect((await run('read 0 1k')).ok).toBe(true);
  });

  it('refuses to start on a disk with invalid metadata, with the DiskConfigError from openDisk', () => {
    const bad = new RamDisk({ sectors: 8 });
    Object.defineProperty(bad, 'optimalUnmapSectors', { value: 0 });
    expect(() => new DiskShell(bad)).toThrow(DiskConfigError);
  });
});

describe('DiskShell: running commands', () => {
  it('runs overlapping calls one at a time, in call order', async () => {
    class SlowDisk extends RamDisk {
      override async write(lba: number, data: Uint8Array): Promise<void> {
        await new Promise((r) => setTimeout(r, 20));
        await super.write(lba, data);
      }
    }
    const sh = new DiskShell(new SlowDisk({ sectors: 8 }), { clock: new StepClock(1) });
    const [w, r] = await Promise.all([sh.run('write -q -P 7 0 512'), sh.run('read -q -P 7 0 512')]);
    expect(w.ok).toBe(true);
    expect(r).toEqual({ ok: true, lines: [] });
  });

  it('streams each line to onLine as it is produced, and survives a throwing sink', async () => {
    const seen: ShellLine[] = [];
    const sh = new DiskShell(new RamDisk({ sectors: 8 }), { clock: new StepClock(1), onLine: (l) => seen.push(l) });
    const r = await sh.run('read -v 0 1');
    expect(seen).toEqual(r.lines);
    expect(seen[0]).toEqual({ text: '00000000:  00  .', stream: 'out' });
    const angry = new DiskShell(new RamDisk({ sectors: 8 }), {
      onLine: () => {
        throw new Error('terminal closed');
      },
    });
    expect((await angry.run('nope')).lines).toHaveLength(1);
  });

  it('runs a list like qemu-io -c ... -c ...: all of them, failing if any failed', async () => {
    const sh = new DiskShell(new RamDisk({ sectors: 8 }), { clock: new StepClock(1) });
    const r = await sh.runAll(['write -q -P 1 0 1', 'bogus', 'read -q -P 1 0 1']);
    expect(r.ok).toBe(false);
    expect(shown(r)).toEqual(['E: command "bogus" not found (\'help\' lists the commands)']);
    expect((await sh.runAll(['flush', 'length'])).ok).toBe(true);
  });

  it('turns a command that throws into one internal-error line, and carries on', async () => {
    // A disk whose sectorCount starts failing after construction breaks a command that trusts it.
    const disk = new RamDisk({ sectors: 8 });
    const sh = new DiskShell(disk);
    const sectorCount = disk.sectorCount.bind(disk);
    disk.sectorCount = () => {
      throw new TypeError('sectorCount exploded');
    };
    expect(await sh.run('length')).toEqual({ ok: false, lines: [{ text: 'length: internal error: sectorCount exploded', stream: 'err' }] });
    disk.sectorCount = sectorCount;
    expect(shown(await sh.run('length'))).toEqual(['4 KiB']);
  });
});
