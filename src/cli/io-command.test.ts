import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDisklab as run } from './testing/run-cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-io-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function image(bytes: number): string {
  const p = path.join(dir, `i${counter++}.raw`);
  fs.writeFileSync(p, new Uint8Array(bytes));
  return p;
}

describe('disklab io', () => {
  it('writes through to the image and reads back like qemu-io -c', async () => {
    const img = image(64 * 1024);
    const r = await run('io', img, '-c', 'write -P 0xab 0 4096', '-c', 'read -v 0 16');
    expect(r.status).toBe(0);
    expect(r.out).toContain('wrote 4096/4096 bytes at offset 0');
    expect(r.out).toContain('00000000:  ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab  ................');
    const bytes = fs.readFileSync(img);
    expect(bytes.subarray(0, 4096).every((b) => b === 0xab)).toBe(true);
    expect(bytes[4096]).toBe(0);
  });

  it('goes through a fixed VHD without touching its footer', async () => {
    const img = path.join(dir, 'disk.vhd');
    expect((await run('create', '-f', 'vhd', img, '1M')).status).toBe(0);
    const footer = fs.readFileSync(img).subarray(1024 * 1024);
    const r = await run('io', img, '-c', 'write -P 0x5a 1048064 512');
    expect(r.status).toBe(0);
    const after = fs.readFileSync(img);
    expect(after.subarray(1024 * 1024)).toEqual(footer);
    expect(after[1024 * 1024 - 1]).toBe(0x5a);
    const past = await run('io', img, '-c', 'write 1048576 512');
    expect(past.status).toBe(1);
    expect(past.out + past.err).toMatch(/beyond the end/); // qemu-io prints 'write failed' on stdout
  });

  it('refuses writes with -r and fails on unknown commands, with status 1', async () => {
    const img = image(4096);
    const ro = await run('io', '-r', img, '-c', 'write 0 512');
    expect(ro.status).toBe(1);
    expect(ro.out + ro.err).toMatch(/read-only/);
    expect(fs.readFileSync(img).every((b) => b === 0)).toBe(true);
    const bad = await run('io', img, '-c', 'frob');
    expect(bad.status).toBe(1);
    expect(bad.err).toMatch(/frob/);
  });

  it('needs at least one -c', async () => {
    const r = await run('io', image(512));
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/^disklab: .*--cmd/);
  });
});

describe('disklab info shows the partition table inside the image', () => {
  it('reads the sample image’s MBR in human and JSON output', async () => {
    const sample = path.join(path.dirname(new URL(import.meta.url).pathname), '../../public/sample.vhd');
    const human = await run('info', sample);
    expect(human.status).toBe(0);
    expect(human.out).toMatch(/Disklabel type: dos/);
    expect(human.out).toMatch(/1\s+2048\s+32767\s+30720\s+15M\s+83\s+Linux/);
    const json = await run('info', '--output=json', sample);
    const table = JSON.parse(json.out)['partition-table'];
    expect(table).toMatchObject({ scheme: 'mbr', partitions: [{ index: 1, start: 2048 * 512, length: 30720 * 512, type: '0x83' }], warnings: [] });
  });
});

describe('dynamic and differencing VHDs through the CLI', () => {
  it('creates a chain, writes through the child only, and converts it to the bytes expected', async () => {
    const base = path.join(dir, 'base.vhd');
    const child = path.join(dir, 'child.vhd');
    expect((await run('create', '-f', 'vhd', '-o', 'subformat=dynamic', base, '4M')).status).toBe(0);
    expect((await run('io', base, '-c', 'write -P 0x11 0 1M')).status).toBe(0);
    const made = await run('create', '-f', 'vhd', '-b', base, child);
    expect(made.out).toContain('size=4194304 backing_file=');
    const baseBytes = fs.readFileSync(base);
    expect((await run('io', child, '-c', 'write -P 0x22 512k 4k')).status).toBe(0);
    expect(fs.readFileSync(base)).toEqual(baseBytes); // the parent is never written
    const info = JSON.parse((await run('info', '--output=json', child)).out);
    expect(info['format-specific'].data).toMatchObject({ subformat: 'differencing' });
    expect(info['backing-filename']).toBe(base);
    const raw = path.join(dir, 'chain.raw');
    expect((await run('convert', '-O', 'raw', child, raw)).status).toBe(0);
    const expected = new Uint8Array(4 << 20);
    expected.fill(0x11, 0, 1 << 20);
    expected.fill(0x22, 512 << 10, (512 << 10) + 4096);
    expect(new Uint8Array(fs.readFileSync(raw)).every((b, i) => b === expected[i])).toBe(true);
  });

  it('refuses a differencing VHD whose parent cannot be found, naming where it looked', async () => {
    const base = path.join(dir, 'gone.vhd');
    const child = path.join(dir, 'orphan.vhd');
    await run('create', '-f', 'vhd', '-o', 'subformat=dynamic', base, '1M');
    await run('create', '-f', 'vhd', '-b', base, child);
    fs.rmSync(base);
    const r = await run('info', child);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^disklab: .*parent image not found.*gone\.vhd/);
  });
});

describe('disklab convert --progress=json', () => {
  it('prints one JSON progress object per line on stderr, ending at 100%', async () => {
    const src = image(4 << 20);
    const r = await run('convert', '--progress=json', '-O', 'raw', src, path.join(dir, 'progress.raw'));
    expect(r.status).toBe(0);
    const lines = r.err.trim().split('\n').map((l) => JSON.parse(l) as { type: string; done: number; total: number; percent: number });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.type === 'progress' && l.total === 4 << 20)).toBe(true);
    expect(lines.map((l) => l.done)).toEqual([...lines.map((l) => l.done)].sort((a, b) => a - b));
    expect(lines.at(-1)).toMatchObject({ done: 4 << 20, percent: 100 });
  });
});

describe('disklab commit', () => {
  it('writes the child’s sectors into the parent, so the parent alone reads as the chain did', async () => {
    const base = path.join(dir, 'commit-base.vhd');
    const child = path.join(dir, 'commit-child.vhd');
    await run('create', '-f', 'vhd', '-o', 'subformat=dynamic', base, '8M');
    await run('io', base, '-c', 'write -P 0x11 0 1M');
    await run('create', '-f', 'vhd', '-b', base, child);
    await run('io', child, '-c', 'write -P 0x22 512k 4k', '-c', 'write -P 0x33 5M 1M');
    const chain = path.join(dir, 'commit-chain.raw');
    const merged = path.join(dir, 'commit-parent.raw');
    await run('convert', '-O', 'raw', child, chain);
    const r = await run('commit', child);
    expect(r.status).toBe(0);
    expect(r.out).toBe('Image committed.\n');
    await run('convert', '-O', 'raw', base, merged);
    expect(fs.readFileSync(merged).equals(fs.readFileSync(chain))).toBe(true);
    const refused = await run('commit', base);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/needs a differencing VHD.*\[UNSUPPORTED\]/);
  });
});
