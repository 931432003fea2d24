/**
 * HTTP range-source benchmarks on loopback, against the raw platform in the same run:
 * - sequential: a 256 MiB image read front to back in 1 MiB reads (each awaited) through
 *   HttpRangeSource + BlobDisk with default settings, vs one plain `fetch` of the whole file
 *   (body consumed as it arrives). Target: at least 70% of the plain fetch's throughput.
 * - 4 KiB random reads at queue depth 1 over a 64 MiB hot set, cold (fresh source) and warm
 *   (after every chunk of the hot set was read once), vs one ranged GET per 4 KiB read (what a
 *   cache-less blob disk does). `details` carries requests per MiB read and the hit ratio; the
 *   issue asks for at least 95% served from cache when warm.
 * The server is the repo's test server in a child process (as a real server would be another
 * machine), serving the same file to the subject and the baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BlobDisk } from '../src/core/backends/blob-disk.ts';
import { HttpRangeSource } from '../src/core/http/http-range-source.ts';
import { nodeHttpFetch } from '../src/node/node-http-fetch.ts';
import { HttpTestServer } from '../src/node/testing/http-test-server.ts';
import { offsets, result, type BenchResult, type Rate } from './harness.ts';

const MiB = 1024 * 1024;
const FILE_BYTES = 256 * MiB;
const HOT_BYTES = 64 * MiB;
const IO = 4096;

type HttpBenchResult = BenchResult & { readonly details: Record<string, number> };

function content(): Uint8Array {
  const words = new Uint32Array(FILE_BYTES / 4);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer);
}

async function timed(fn: () => Promise<number>): Promise<Rate> {
  const t = performance.now();
  const ops = await fn();
  const seconds = (performance.now() - t) / 1000;
  return { perSecond: ops / seconds, ops, seconds };
}

/** One GET of the whole file, the body consumed as it arrives; rate in MiB/s. */
async function plainFetch(url: string): Promise<Rate> {
  const rate = await timed(async () => {
    const response = await fetch(url);
    const reader = response.body!.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
    }
    if (bytes !== FILE_BYTES) throw new Error(`plain fetch got ${bytes} bytes`);
    return bytes / MiB;
  });
  return rate;
}

/**
 * The whole file in 1 MiB reads through HttpRangeSource + BlobDisk, or (`direct`) through the
 * source's `readInto`, which is what BlobDisk would cost if it used it; rate in MiB/s.
 */
async function sequentialThroughSource(url: string, expected: Uint8Array, direct = false): Promise<{ rate: Rate; requests: number }> {
  const source = await HttpRangeSource.open(url, { fetch: nodeHttpFetch });
  const disk = new BlobDisk(source);
  const buf = new Uint8Array(MiB);
  const rate = await timed(async () => {
    for (let at = 0; at < FILE_BYTES; at += MiB) {
      if (direct) await source.readInto(at, buf);
      else await disk.read(at / 512, buf);
      // Spot-check: a benchmark that reads wrong bytes measures nothing.
      if (buf[4095] !== expected[at + 4095]) throw new Error(`wrong byte at ${at + 4095}`);
    }
    return FILE_BYTES / MiB;
  });
  const requests = source.stats().requests;
  await disk.close();
  return { rate, requests };
}

/** Starts this file with --serve in a child process; resolves with the child and its URL. */
async function startServerProcess(file: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, url };
}

export async function httpBenchmarks(): Promise<BenchResult[]> {
  const bytes = content();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disklab-bench-http-'));
  const file = path.join(dir, 'disk.img');
  fs.writeFileSync(file, bytes);
  const { child, url } = await startServerProcess(file);
  const out: HttpBenchResult[] = [];
  try {
    // Alternate the two over several rounds and take medians, so a noisy neighbour (other work
    // on the same cores) hurts both alike and one lucky round does not decide the ratio.
    const plains: Rate[] = [];
    const ours: Rate[] = [];
    const direct: Rate[] = [];
    const roundRatios: number[] = [];
    let requests = 0;
    for (let round = 0; round < 5; round++) {
      const plain = await plainFetch(url);
      const subject = await sequentialThroughSource(url, bytes);
      direct.push((await sequentialThroughSource(url, bytes, true)).rate);
      plains.push(plain);
      ours.push(subject.rate);
      roundRatios.push(subject.rate.perSecond / plain.perSecond);
      requests = subject.requests;
    }
    const median = (rates: Rate[]) => [...rates].sort((x, y) => x.perSecond - y.perSecond)[rates.length >> 1]!;
    const sortedRatios = [...roundRatios].sort((x, y) => x - y);
    out.push({
      ...result('http-seq-read-256m', 'HttpRangeSource + BlobDisk (defaults) reading a 256 MiB image sequentially in 1 MiB reads, each awaited, over loopback (median of 5 rounds)', 'MiB/s', median(ours), {
        name: 'one plain fetch of the whole file (Node fetch, body consumed; median of 5 rounds, alternating)',
        rate: median(plains),
      }),
      targetRatio: 0.7,
      details: {
        requests,
        mibPerRequest: Math.round((FILE_BYTES / MiB / requests) * 100) / 100,
        medianRoundRatio: Math.round(sortedRatios[2]! * 1000) / 1000,
        bestRoundRatio: Math.round(sortedRatios[4]! * 1000) / 1000,
        worstRoundRatio: Math.round(sortedRatios[0]! * 1000) / 1000,
        // The same reads through HttpRangeSource.readInto (no intermediate array): BlobDisk's cost if it used readInto.
        readIntoMiBps: Math.round(median(direct).perSecond * 100) / 100,
        readIntoRatio: Math.round((median(direct).perSecond / median(plains).perSecond) * 1000) / 1000,
      },
    });

    const slots = HOT_BYTES / IO;
    const picks = offsets(1 << 16, slots, 3);
    const at = (i: number) => picks[i & 0xffff]! * IO;
    const source = await HttpRangeSource.open(url, { fetch: nodeHttpFetch });
    const phase = async (first: number, readsPerPhase: number) => {
      const before = source.stats();
      const rate = await timed(async () => {
        for (let i = first; i < first + readsPerPhase; i++) await source.read(at(i), IO);
        return readsPerPhase;
      });
      const after = source.stats();
      const lookups = after.chunkHits + after.chunkMisses + after.chunkWaits - (before.chunkHits + before.chunkMisses + before.chunkWaits);
      const mibRead = (readsPerPhase * IO) / MiB;
      return {
        rate,
        details: {
          requestsPerMiBRead: Math.round(((after.requests - before.requests) / mibRead) * 100) / 100,
          hitRatio: Math.round(((after.chunkHits - before.chunkHits) / lookups) * 1000) / 1000,
          mibFetched: Math.round(((after.bytesFetched - before.bytesFetched) / MiB) * 10) / 10,
        },
      };
    };
    const cold = await phase(0, 1000);
    // Warm-up: touch every chunk of the hot set once.
    for (let offset = 0; offset < HOT_BYTES; offset += source.settings.chunkSize) await source.read(offset, IO);
    const warm = await phase(1000, 30_000);
    await source.close();
    const perReadGet = await timed(async () => {
      const n = 1000;
      for (let i = 0; i < n; i++) {
        const offset = at(i);
        const response = await fetch(url, { headers: { Range: `bytes=${offset}-${offset + IO - 1}` } });
        if ((await response.arrayBuffer()).byteLength !== IO) throw new Error('short ranged GET');
      }
      return n;
    });
    const peer = { name: 'one ranged GET per 4 KiB read (no cache)', rate: perReadGet };
    out.push({
      ...result('http-4k-randread-qd1-cold', '4 KiB random reads, each awaited, over a 64 MiB hot set, the first 1000 reads of a fresh HttpRangeSource (1 MiB chunks)', 'IOPS', cold.rate, peer),
      details: cold.details,
    });
    out.push({
      ...result('http-4k-randread-qd1-warm', '30000 more such reads after every chunk of the hot set was read once', 'IOPS', warm.rate, peer),
      details: warm.details,
    });
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// `tsx bench/node-http.ts` runs just this suite; with `--serve FILE` it is the benchmark's server.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--serve') {
    const server = await HttpTestServer.start({ files: { '/disk.img': new Uint8Array(fs.readFileSync(process.argv[3]!)) } });
    process.stdout.write(server.url('/disk.img') + '\n');
  } else {
    process.stdout.write(JSON.stringify(await httpBenchmarks(), null, 2) + '\n');
  }
}
