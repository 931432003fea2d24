/**
 * The platform baseline for the in-browser benchmarks: what a bare OPFS FileSystemSyncAccessHandle
 * does in a dedicated worker, with no Disk Lab code in the path. Measures 1 MiB sequential write
 * and read (MB/s) over a fresh file, then 4 KiB random reads (IOPS) for a fixed time. Also the
 * RamDisk called directly in a loop, the baseline for what the controller adds on top of a disk.
 */
import { RamDisk } from '../../src/core/backends/ram-disk.ts';
import type { RawOpfsRequest, RawOpfsResult } from '../browser-protocol.ts';

const MiB = 1024 * 1024;

/** The same deterministic offsets for every measurement in this file. */
function xorshift(x: number): number {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

async function measure(req: RawOpfsRequest): Promise<RawOpfsResult> {
  const root = await navigator.storage.getDirectory();
  const name = `bench-raw-${Date.now()}.img`;
  const handle = await (await root.getFileHandle(name, { create: true })).createSyncAccessHandle();
  try {
    const chunk = new Uint8Array(MiB);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131) & 0xff;
    const chunks = req.fileBytes / MiB;
    let t = performance.now();
    for (let i = 0; i < chunks; i++) handle.write(chunk, { at: i * MiB });
    handle.flush();
    const seqWriteMBps = req.fileBytes / MiB / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < chunks; i++) handle.read(chunk, { at: i * MiB });
    const seqReadMBps = req.fileBytes / MiB / ((performance.now() - t) / 1000);
    const small = new Uint8Array(4096);
    const slots = req.fileBytes / 4096;
    let x = 7;
    let ops = 0;
    t = performance.now();
    const until = t + req.randomMs;
    while (performance.now() < until) {
      for (let i = 0; i < 256; i++) {
        x = xorshift(x);
        handle.read(small, { at: (x % slots) * 4096 });
      }
      ops += 256;
    }
    const randReadIops = ops / ((performance.now() - t) / 1000);
    return { seqWriteMBps, seqReadMBps, randReadIops, ramDirectIops: await ramDirect(req) };
  } finally {
    handle.close();
    await root.removeEntry(name);
  }
}

/** 4 KiB random reads straight from a RamDisk, each awaited: the disk with no controller in front. */
async function ramDirect(req: RawOpfsRequest): Promise<number> {
  const disk = new RamDisk({ sectors: req.fileBytes / 512 });
  const buf = new Uint8Array(4096).fill(1);
  const slots = req.fileBytes / 4096;
  for (let i = 0; i < slots; i++) await disk.write(i * 8, buf);
  let x = 7;
  let ops = 0;
  const t = performance.now();
  const until = t + req.randomMs;
  while (performance.now() < until) {
    for (let i = 0; i < 256; i++) {
      x = xorshift(x);
      await disk.read((x % slots) * 8, buf);
    }
    ops += 256;
  }
  return ops / ((performance.now() - t) / 1000);
}

self.onmessage = (e: MessageEvent<RawOpfsRequest>) => {
  measure(e.data).then(
    (result) => self.postMessage({ ok: true, result }),
    (error: unknown) => self.postMessage({ ok: false, error: String(error) }),
  );
};
