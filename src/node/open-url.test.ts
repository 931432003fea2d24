// openUrl: images made by qemu-img, served by the loopback test server, must read exactly as the
// same files opened locally (openImage). This is also the CLI-level test of URL opening: the CLI
// reaches openUrl through openImage once the hook is wired.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Disk } from '../core/disk/disk.ts';
import { expectDiskError, expectSameBytes, pattern } from '../core/testing/disk-conformance.ts';
import { HttpSourceError } from '../core/http/http-error.ts';
import { createImage, openImage } from './open-image.ts';
import { isHttpUrl, openUrl } from './open-url.ts';
import { qemuToolsAvailable } from './qemu-tools.ts';
import { HttpTestServer } from './testing/http-test-server.ts';

const MiB = 1024 * 1024;
const haveQemu = qemuToolsAvailable();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-open-url-'));
let server: HttpTestServer;

function run(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

async function readAll(disk: Disk): Promise<Uint8Array> {
  const out = new Uint8Array(disk.sectorCount() * disk.sectorSize);
  const step = 3000; // sectors per read: not a multiple of any block size
  for (let s = 0; s < disk.sectorCount(); s += step) {
    const n = Math.min(step, disk.sectorCount() - s);
    await disk.read(s, out.subarray(s * disk.sectorSize, (s + n) * disk.sectorSize));
  }
  return out;
}

/** Files in `dir` served under the same names. */
function serveDir(): Record<string, Uint8Array> {
  return Object.fromEntries(fs.readdirSync(dir).map((name) => [`/${name}`, new Uint8Array(fs.readFileSync(path.join(dir, name)))]));
}

beforeAll(async () => {
  const raw = path.join(dir, 'data.raw');
  const data = new Uint8Array(8 * MiB);
  data.set(pattern(3 * MiB, 5), MiB);
  data.set(pattern(512 * 1024, 6), 6 * MiB + 4096);
  fs.writeFileSync(raw, data);
  if (haveQemu) {
    run('qemu-img', 'convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic', raw, path.join(dir, 'dynamic.vhd'));
    run('qemu-img', 'convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed', raw, path.join(dir, 'fixed.vhd'));
    run('qemu-img', 'convert', '-f', 'raw', '-O', 'vhdx', raw, path.join(dir, 'image.vhdx'));
    run('qemu-img', 'convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, path.join(dir, 'compressed.qcow2'));
    run('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, path.join(dir, 'base.qcow2'));
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', path.join(dir, 'overlay.qcow2'));
    run('qemu-io', '-f', 'qcow2', '-c', `write -P 0x5a ${2 * MiB} 65536`, path.join(dir, 'overlay.qcow2'));
  }
  const parent = await createImage(path.join(dir, 'parent.vhd'), 'vhd', 4 * MiB, { subformat: 'dynamic' });
  await parent.disk.write(8, pattern(4096, 9));
  await parent.disk.close();
  const child = await createImage(path.join(dir, 'child.vhd'), 'vhd', 0, { backing: path.join(dir, 'parent.vhd') });
  await child.disk.write(4000, pattern(1024, 10));
  await child.disk.close();
  server = await HttpTestServer.start({ files: serveDir() });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('openUrl', () => {
  const formats: Array<[string, string, string | undefined]> = [
    ['data.raw', 'raw', undefined],
    ['child.vhd', 'vhd', 'differencing'],
  ];
  if (haveQemu) {
    formats.push(['dynamic.vhd', 'vhd', 'dynamic'], ['fixed.vhd', 'vhd', undefined], ['image.vhdx', 'vhdx', 'dynamic'], ['compressed.qcow2', 'qcow2', undefined], ['overlay.qcow2', 'qcow2', undefined]);
  }
  for (const [name, format, subformat] of formats) {
    it(`opens ${name} over HTTP as ${format}${subformat ? ` (${subformat})` : ''}, reading exactly what openImage reads locally`, async () => {
      const local = await openImage(path.join(dir, name));
      const remote = await openUrl(server.url(`/${name}`));
      try {
        expect(remote.format).toBe(local.format);
        expect(remote.detected).toBe(true);
        expect(remote.disk.readOnly).toBe(true);
        expect(remote.disk.sectorCount()).toBe(local.disk.sectorCount());
        if (subformat !== undefined) expect(remote.structured?.subformat).toBe(subformat);
        expectSameBytes(await readAll(remote.disk), await readAll(local.disk), name);
        expect(remote.source.stats().bytesServed).toBeGreaterThan(0);
      } finally {
        await local.disk.close();
        await remote.disk.close();
      }
    });
  }

  it('finds a differencing VHD’s parent beside it and reports the chain as URLs', async () => {
    const remote = await openUrl(server.url('/child.vhd'));
    expect(remote.structured?.chain).toEqual([server.url('/child.vhd'), server.url('/parent.vhd')]);
    expect(remote.sources).toHaveLength(2);
    await remote.disk.close();
  });

  it('honours a named format, refuses to open writable, and passes a 404 through as NETWORK', async () => {
    const asRaw = await openUrl(server.url('/child.vhd'), { format: 'raw' });
    expect(asRaw.format).toBe('raw');
    expect(asRaw.detected).toBe(false);
    await asRaw.disk.close();
    await expectDiskError(openUrl(server.url('/data.raw'), { readOnly: false }), 'READ_ONLY');
    const e = await expectDiskError(openUrl(server.url('/missing.vhd')), 'NETWORK');
    expect((e as HttpSourceError).status).toBe(404);
  });

  it('passes source options through and tells URLs from paths', async () => {
    const remote = await openUrl(server.url('/data.raw'), { source: { chunkSize: 64 * 1024 } });
    expect(remote.source.settings.chunkSize).toBe(64 * 1024);
    await remote.disk.close();
    expect(isHttpUrl('https://example.com/a.vhd')).toBe(true);
    expect(isHttpUrl('HTTP://example.com/a.vhd')).toBe(true);
    expect(isHttpUrl('/tmp/http://x')).toBe(false);
    expect(isHttpUrl('image.vhd')).toBe(false);
  });
});
