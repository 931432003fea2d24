import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RamDisk } from '../core/backends/ram-disk.ts';
import { pattern } from '../core/testing/disk-conformance.ts';
import { captureIo } from './io.ts';
import { runCli } from './program.ts';
import { throttleReads } from './rate-limit.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-rate-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function readAll(disk: { read(lba: number, buf: Uint8Array): Promise<void> }, sectors: number, chunk: number): Promise<void> {
  const buf = new Uint8Array(chunk * 512);
  for (let lba = 0; lba < sectors; lba += chunk) await disk.read(lba, buf);
}

describe('convert -r RATE (throttleReads)', () => {
  it('holds reads to the rate through the job throttle and reports the job progress', async () => {
    const disk = new RamDisk({ sectors: 2048 }); // 1 MiB
    const t = throttleReads(disk, 4 * 1024 * 1024);
    const started = performance.now();
    await readAll(t.disk, 2048, 128);
    const seconds = (performance.now() - started) / 1000;
    await t.finish();
    // 1 MiB at 4 MiB/s is 0.25 s; the throttle may run one piece (64 KiB) ahead.
    expect(seconds).toBeGreaterThan(0.2);
    expect(t.job.progress()).toMatchObject({ state: 'completed', bytesDone: 1024 * 1024, bytesTotal: 1024 * 1024 });
  });

  it('refuses a rate that is not positive', () => {
    expect(() => throttleReads(new RamDisk({ sectors: 8 }), 0)).toThrow(/rate limit/);
  });

  it('disklab convert -r copies identically and takes at least the time the rate allows', async () => {
    const src = path.join(dir, 'src.img');
    const dst = path.join(dir, 'dst.img');
    fs.writeFileSync(src, pattern(512 * 1024, 3));
    const io = captureIo();
    const started = performance.now();
    const status = await runCli(['convert', '-r', '1M', '-O', 'raw', src, dst], io);
    const seconds = (performance.now() - started) / 1000;
    expect(io.err).toBe('');
    expect(status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(dst), fs.readFileSync(src))).toBe(0);
    // One 512 KiB read, then the throttle holds the job until 0.5 s at 1 MiB/s.
    expect(seconds).toBeGreaterThan(0.4);
  });

  it('disklab convert -r with a rate well below the file size is slowed by it', async () => {
    const src = path.join(dir, 'big.img');
    const dst = path.join(dir, 'big-out.img');
    fs.writeFileSync(src, pattern(6 * 1024 * 1024, 4));
    const io = captureIo();
    const started = performance.now();
    expect(await runCli(['convert', '-r', '8M', src, dst], io)).toBe(0);
    const seconds = (performance.now() - started) / 1000;
    // 6 MiB at 8 MiB/s = 0.75 s; one 2 MiB chunk may run ahead: at least 0.5 s.
    expect(seconds).toBeGreaterThan(0.45);
    expect(Buffer.compare(fs.readFileSync(dst), fs.readFileSync(src))).toBe(0);
  });
});
