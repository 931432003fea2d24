// disklab on http(s) URLs: the same answers as for the local file, read by range requests from
// the repository's test server (committed qemu-img-made fixtures, so no qemu is needed here).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTestServer } from '../node/testing/http-test-server.ts';
import { runDisklab as run } from './testing/run-cli.ts';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/images');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-url-'));
const served = ['qcow2-v3-base.qcow2', 'qcow2-v3-overlay.qcow2', 'vpc-dynamic.vhd'];
let server: HttpTestServer;

beforeAll(async () => {
  const files = Object.fromEntries(served.map((name) => [`/${name}`, new Uint8Array(fs.readFileSync(path.join(fixtures, name)))]));
  server = await HttpTestServer.start({ files });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('disklab on URLs', () => {
  it.each(served)('%s: info, map and convert agree with the local file', async (name) => {
    const url = server.url(`/${name}`);
    const local = path.join(fixtures, name);
    const [remoteInfo, localInfo] = await Promise.all([run('info', '--output=json', url), run('info', '--output=json', local)]);
    expect(remoteInfo.status, remoteInfo.err).toBe(0);
    const r = JSON.parse(remoteInfo.out) as Record<string, unknown>;
    const l = JSON.parse(localInfo.out) as Record<string, unknown>;
    expect(r['virtual-size']).toBe(l['virtual-size']);
    expect(r.format).toBe(l.format);
    expect(r['actual-size']).toBe(0);

    const [remoteMap, localMap] = await Promise.all([run('map', '--output=json', url), run('map', '--output=json', local)]);
    expect(remoteMap.status, remoteMap.err).toBe(0);
    expect(JSON.parse(remoteMap.out)).toEqual(JSON.parse(localMap.out));

    const out = path.join(dir, `${name}.raw`);
    const converted = await run('convert', '-O', 'raw', url, out);
    expect(converted.status, converted.err).toBe(0);
    expect((await run('compare', out, local)).status).toBe(0);
  });

  it('convert -p ends with what the remote read cost: requests, bytes fetched and served, hit ratio, latency', async () => {
    const url = server.url('/vpc-dynamic.vhd');
    const human = await run('convert', '-p', '-O', 'raw', url, path.join(dir, 'p.raw'));
    expect(human.status, human.err).toBe(0);
    expect(human.err).toMatch(/vpc-dynamic\.vhd: \d+ requests, .* fetched for .* served, chunk hit ratio [\d.]+%, up to \d+ in flight, latency p50 [\d.]+ ms/);
    const json = await run('convert', '--progress=json', '-O', 'raw', url, path.join(dir, 'j.raw'));
    const line = json.err.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.type === 'http');
    expect(line).toMatchObject({ url, requests: expect.any(Number), bytesFetched: expect.any(Number), bytesServed: expect.any(Number) });
    expect(line!.requests as number).toBeGreaterThan(0);
    expect(line!.bytesServed as number).toBeGreaterThan(0);
  });

  it('refuses to write to a URL and names the server problem when a file is missing', async () => {
    const write = await run('io', server.url('/vpc-dynamic.vhd'), '-c', 'write 0 512');
    expect(write.status).toBe(1);
    expect(write.err).toMatch(/read-only/);
    const missing = await run('info', server.url('/nope.vhd'));
    expect(missing.status).toBe(1);
    expect(missing.err).toMatch(/\[NETWORK\]/);
  });
});
