import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pattern } from '../core/testing/disk-conformance.ts';
import { vhdChecksum } from '../core/formats/vhd/footer.ts';
import { convertCommand } from './convert.ts';
import { captureIo } from './io.ts';
import { runDisklab as run } from './testing/run-cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (ext: string) => path.join(dir, `f${counter++}.${ext}`);

/** A raw file of `bytes` with random-looking content (pattern) and a zero gap in the middle. */
function rawWithData(bytes: number, seed = 1): string {
  const p = fresh('img');
  const data = pattern(bytes, seed);
  data.fill(0, Math.floor(bytes / 4), Math.floor(bytes / 2));
  fs.writeFileSync(p, data);
  return p;
}

/** One line, starting "disklab: ", no stack trace. */
function expectOneLineError(err: string, mentions: string | RegExp): void {
  expect(err.startsWith('disklab: ')).toBe(true);
  expect(err.trimEnd().split('\n')).toHaveLength(1);
  expect(err).not.toMatch(/\n\s+at /);
  expect(err).toMatch(mentions);
}

describe('disklab create and info', () => {
  it('creates a fixed VHD of the exact size and describes it in qemu-img JSON', async () => {
    const p = fresh('vhd');
    const c = await run('create', '-f', 'vhd', '-o', 'subformat=fixed', p, '10M');
    expect(c).toMatchObject({ status: 0, err: '' });
    expect(c.out).toBe(`Formatting '${p}', fmt=vpc size=10485760 subformat=fixed\n`);
    expect(fs.statSync(p).size).toBe(10485760 + 512);
    const info = await run('info', '--output=json', p);
    expect(info.status).toBe(0);
    const json = JSON.parse(info.out);
    expect(json).toMatchObject({ 'virtual-size': 10485760, filename: p, format: 'vpc', 'dirty-flag': false });
    expect(typeof json['actual-size']).toBe('number');
    expect(json['format-specific']).toMatchObject({
      type: 'vpc',
      data: {
        subformat: 'fixed',
        'creator-app': 'win ',
        'creator-host-os': 'Wi2k',
        'current-size': 10485760,
        geometry: { cylinders: 301, heads: 4, 'sectors-per-track': 17 },
        'geometry-size': 10479616,
      },
    });
  });

  it('prints human info like qemu-img', async () => {
    const p = fresh('img');
    await run('create', p, '1.5G');
    const { status, out } = await run('info', p);
    expect(status).toBe(0);
    expect(out).toMatch(new RegExp(`^image: ${p}\nfile format: raw\nvirtual size: 1.5 GiB \\(1610612736 bytes\\)\ndisk size: .+\n$`));
  });

  it('rounds sizes up to whole sectors, as qemu-img does', async () => {
    const p = fresh('img');
    expect((await run('create', p, '1000')).status).toBe(0);
    expect(fs.statSync(p).size).toBe(1024);
  });

  it('refuses to overwrite unless --force', async () => {
    const p = rawWithData(4096);
    const r = await run('create', '-f', 'raw', p, '1M');
    expect(r.status).toBe(1);
    expectOneLineError(r.err, /already exists.*--force/);
    expect(fs.statSync(p).size).toBe(4096);
    expect((await run('create', '--force', '-f', 'vpc', p, '1M')).status).toBe(0);
    expect(fs.statSync(p).size).toBe(1024 * 1024 + 512);
  });

  it('explains what it cannot do, in one line, creating nothing', async () => {
    const p = fresh('vhd');
    const cases: [string[], RegExp][] = [
      [['create', '-f', 'raw', '-b', p, p], /a backing file needs -f vhd/],
      [['create', '-f', 'vhd', '-o', 'subformat=weird', p, '1M'], /unknown subformat 'weird'/],
      [['create', '-f', 'raw', '-o', 'subformat=fixed', p, '1M'], /unknown option 'subformat'/],
      [['create', '-f', 'vhdx', p, '1M'], /creating vhdx images is not supported/],
      [['create', '-f', 'ext4', p, '1M'], /unknown image format 'ext4'/],
      [['create', p, '10x'], /invalid size '10x'/],
      [['create', '-f', 'vhd', p, '4T'], /exceeds the VHD maximum/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.status, argv.join(' ')).toBe(1);
      expectOneLineError(r.err, message);
      expect(fs.existsSync(p), argv.join(' ')).toBe(false);
    }
  });

  it('reports corrupt and unsupported images with the field and code', async () => {
    const p = fresh('vhd');
    await run('create', '-f', 'vhd', p, '64k');
    const bytes = fs.readFileSync(p);
    bytes[bytes.length - 512 + 12] = 9; // version
    fs.writeFileSync(p, bytes);
    const r = await run('info', '-f', 'vpc', p);
    expect(r.status).toBe(1);
    expectOneLineError(r.err, /checksum.*\[CORRUPT_IMAGE\]/);
    const view = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 512, 512);
    view.setUint32(64, vhdChecksum(new Uint8Array(bytes.buffer, bytes.byteOffset + bytes.length - 512, 512)));
    fs.writeFileSync(p, bytes);
    expectOneLineError((await run('info', p)).err, /version.*\[CORRUPT_IMAGE\]/);
    const q = fresh('qcow2');
    fs.writeFileSync(q, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(1020)]));
    // A qcow2 magic with a zeroed header: version 0 is not one qcow2 has.
    expectOneLineError((await run('info', q)).err, /\[(CORRUPT_IMAGE|UNSUPPORTED)\]/);
    expectOneLineError((await run('info', path.join(dir, 'missing.img'))).err, /missing\.img/);
  });
});

describe('disklab convert', () => {
  it('round-trips raw -> vhd -> raw byte for byte, with progress on stderr', async () => {
    const src = rawWithData(3 * 1024 * 1024 + 3 * 512);
    const vhd = fresh('vhd');
    const c = await run('convert', '-p', '-O', 'vhd', '-o', 'subformat=fixed', src, vhd);
    expect(c.status).toBe(0);
    expect(c.out).toBe('');
    expect(c.err).toMatch(/^ {4}\(0\.00\/100%\)\r.*\(100\.00\/100%\)\r\n$/s);
    expect(fs.statSync(vhd).size).toBe(fs.statSync(src).size + 512);
    const back = fresh('img');
    expect((await run('convert', '-f', 'vpc', '-O', 'raw', vhd, back)).status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(back), fs.readFileSync(src))).toBe(0);
    expect((await run('compare', src, vhd)).status).toBe(0);
  });

  it('leaves neither the target nor a temporary file behind when it fails midway', async () => {
    const src = rawWithData(1024 * 1024);
    const dst = path.join(dir, 'half.vhd');
    const before = fs.readdirSync(dir).length;
    const io = captureIo();
    await expect(
      convertCommand(
        {
          source: src, target: dst, outputFormat: 'vhd', options: [], progress: false, force: false, chunkBytes: 64 * 1024,
          afterChunk: (done) => {
            if (done >= 512 * 1024) throw new Error('disk full');
          },
        },
        io,
      ),
    ).rejects.toThrow('disk full');
    expect(fs.existsSync(dst)).toBe(false);
    expect(fs.readdirSync(dir).length).toBe(before);
  });

  it('refuses an existing target unless --force, and an unknown output format', async () => {
    const src = rawWithData(8192);
    const dst = rawWithData(512, 2);
    expectOneLineError((await run('convert', src, dst)).err, /already exists/);
    expect(fs.statSync(dst).size).toBe(512);
    expect((await run('convert', '--force', src, dst)).status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(dst), fs.readFileSync(src))).toBe(0);
    expectOneLineError((await run('convert', '-O', 'zip', src, fresh('x'))).err, /unknown image format 'zip'/);
  });
});

describe('disklab compare', () => {
  it('says identical, or where the first differing sector starts', async () => {
    const a = rawWithData(64 * 1024, 5);
    const b = fresh('img');
    fs.copyFileSync(a, b);
    expect(await run('compare', a, b)).toEqual({ status: 0, out: 'Images are identical.\n', err: '' });
    const bytes = fs.readFileSync(b);
    bytes[5000] = (bytes[5000] ?? 0) ^ 1;
    fs.writeFileSync(b, bytes);
    expect(await run('compare', a, b)).toEqual({ status: 1, out: 'Content mismatch at offset 4608!\n', err: '' });
    expect(await run('compare', '-q', a, b)).toEqual({ status: 1, out: '', err: '' });
  });

  it('treats a zero tail on the larger image as equal, unless strict', async () => {
    const a = rawWithData(64 * 1024, 6);
    const b = fresh('img');
    fs.copyFileSync(a, b);
    fs.truncateSync(b, 128 * 1024);
    expect((await run('compare', a, b)).out).toBe('Warning: Image size mismatch!\nImages are identical.\n');
    expect((await run('compare', b, a)).status).toBe(0);
    expect(await run('compare', '-s', a, b)).toMatchObject({ status: 1, out: 'Strict mode: Image size mismatch!\n' });
    fs.appendFileSync(b, Buffer.from([0, 0, 7]));
    expect(await run('compare', a, b)).toMatchObject({
      status: 1,
      out: `Warning: Image size mismatch!\nContent mismatch at offset ${128 * 1024}!\n`,
    });
  });

  it('exits 2 on errors', async () => {
    const a = rawWithData(4096);
    const r = await run('compare', '-F', 'vpc', a, a);
    expect(r.status).toBe(2);
    expectOneLineError(r.err, /CORRUPT_IMAGE/);
    expect((await run('compare', a, path.join(dir, 'nope'))).status).toBe(2);
  });
});

describe('disklab map', () => {
  it('prints one fully allocated extent in qemu-img map JSON', async () => {
    const p = fresh('vhd');
    await run('create', '-f', 'vhd', p, '1M');
    expect((await run('map', '--output=json', p)).out).toBe(
      '[{ "start": 0, "length": 1048576, "depth": 0, "present": true, "zero": false, "data": true, "offset": 0}]\n',
    );
    expect((await run('map', p)).out).toBe(
      `Offset          Length          Mapped to       File\n0               0x100000        0               ${p}\n`,
    );
  });
});

describe('disklab command line', () => {
  it('prints help, per-command help and the version', async () => {
    const help = await run('--help');
    expect(help.status).toBe(0);
    for (const cmd of ['info', 'create', 'convert', 'compare', 'map', 'measure', 'commit', 'check', 'io']) expect(help.out).toContain(cmd);
    const createHelp = await run('help', 'create');
    expect(createHelp.status).toBe(0);
    expect(createHelp.out).toContain('Usage: disklab create [options] <image> [size]');
    const version = await run('--version');
    expect(version.out).toBe(`${JSON.parse(fs.readFileSync('package.json', 'utf8')).version}\n`);
  });

  it('rejects bad usage in one line with a non-zero status', async () => {
    for (const [argv, message] of [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['help', 'frobnicate'], /no command 'frobnicate'/],
      [['info'], /missing required argument 'image'/],
      [['info', '--output=xml', 'x'], /--output.*xml/],
      [['info', 'a', 'b'], /too many arguments/],
      [['map', '--bogus', 'x'], /unknown option '--bogus'/],
    ] as const) {
      const r = await run(...argv);
      expect(r.status, argv.join(' ')).not.toBe(0);
      expectOneLineError(r.err, message);
    }
  });
});
