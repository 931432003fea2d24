// Real subprocess runs of bin/disklab.mjs: the shebang entry, tsx loading, exit statuses, and
// that failures print one line with no stack trace.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin', 'disklab.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-bin-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function disklab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('bin/disklab.mjs', () => {
  it('creates, inspects and compares images end to end', () => {
    expect(disklab('create', '-f', 'vhd', 'a.vhd', '2M')).toMatchObject({ status: 0, err: '' });
    const info = disklab('info', '--output=json', 'a.vhd');
    expect(info.status).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({ 'virtual-size': 2097152, format: 'vpc' });
    expect(disklab('convert', '-O', 'raw', 'a.vhd', 'a.raw').status).toBe(0);
    expect(disklab('compare', 'a.vhd', 'a.raw')).toMatchObject({ status: 0, out: 'Images are identical.\n' });
  });

  it('exits non-zero with one line and no stack trace on bad input', () => {
    fs.writeFileSync(path.join(dir, 'junk.vhd'), Buffer.alloc(1024, 7));
    for (const [args, status] of [
      [['info', '-f', 'vhd', 'junk.vhd'], 1],
      [['info', 'nowhere.img'], 1],
      [['compare', 'nowhere.img', 'junk.vhd'], 2],
      [['create', 'x.img', 'lots'], 1],
      [['nonsense'], 1],
    ] as const) {
      const r = disklab(...args);
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.err).toMatch(/^disklab: [^\n]+\n$/);
      expect(r.out).toBe('');
    }
  });

  it('prints help and version', () => {
    expect(disklab('--help').out).toContain('Usage: disklab');
    expect(disklab('help', 'convert').out).toContain('Usage: disklab convert');
    expect(disklab('--version').out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('runs through npm run disklab', () => {
    fs.writeFileSync(path.join(dir, 'n.img'), Buffer.alloc(4096));
    const r = spawnSync('npm', ['run', '--silent', 'disklab', '--', 'info', '--output=json', path.join(dir, 'n.img')], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ 'virtual-size': 4096, format: 'raw' });
  });
});
