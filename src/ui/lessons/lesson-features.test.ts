/**
 * Lessons 6 (remote disks) and 7 (encryption) on the real engine in Node: LiveStacks as the disk
 * worker keeps them, with the worker's URL-source bookkeeping over a range-serving stand-in for
 * the dev server (public/sample.vhd) and the real XTS wasm cipher. Each question's probe must
 * read the value worked out here from the lesson's text. Lesson 10's mirror needs OPFS images,
 * so it runs in e2e/lessons.spec.ts; its pure helpers are checked here.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskError } from '../../core/disk/errors.ts';
import type { SpecPlatform } from '../../core/resolve-spec.ts';
import type { DiskSpec } from '../../core/spec.ts';
import type { WasmXtsCipher } from '../../core/crypto/wasm-xts.ts';
import type { OverlaySecret, OverlaySpec, SectorView } from '../../../workers/api.ts';
import { BlobRangeSource } from '../../../workers/platform/blob-range-source.ts';
import { browserInflate } from '../../../workers/platform/browser-inflate.ts';
import { httpFetchOver } from '../../../workers/platform/http-fetch-port.ts';
import { LiveStack } from '../../../workers/stack/live-stack.ts';
import { UrlSources } from '../../../workers/stack/url-sources.ts';
import type { UrlSourceStats } from '../../../workers/url-cache-api.ts';
import type { Lab } from '../lab/lab-context.tsx';
import type { WorkloadRunner } from '../workload/workload-runner.ts';
import { checkAnswer, formatLive, type LiveValue } from './answer-check.ts';
import { blockJobsLesson } from './content/block-jobs.ts';
import { encryptionLesson } from './content/encryption.ts';
import { remoteLesson } from './content/remote.ts';
import { countByte, lessonKeyFile, sameBytes, uniqueTarget, urlStat } from './lesson-features.ts';
import { validateLesson, type Lesson } from './lesson.ts';
import { LessonSession } from './lesson-session.ts';

// The UI project has no Node types; the test runs in Node under Vitest, so Node modules are loaded by name.
const FS = 'node:fs';
const XTS = '../../node/xts-wasm.ts';
const { readFileSync } = (await import(/* @vite-ignore */ FS)) as { readFileSync(path: string): Uint8Array<ArrayBuffer> };
const { nodeXtsCipher } = (await import(/* @vite-ignore */ XTS)) as { nodeXtsCipher(key: Uint8Array): Promise<WasmXtsCipher> };

const ORIGIN = 'http://lab.test';
const KiB = 1024;
const MiB = 1024 * KiB;

/** A static file server for public/ that answers HEAD and single Range requests, as Vite's does. */
function rangeServer(log: string[]) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const path = new URL(url).pathname;
    const bytes = readFileSync(`public${path}`);
    const method = init.method ?? 'GET';
    const range = new Headers(init.headers).get('range');
    log.push(`${method} ${range ?? ''}`);
    const base = { etag: '"v1"', 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (method === 'HEAD') return new Response(null, { status: 200, headers: { ...base, 'content-length': String(bytes.length) } });
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (!m) return new Response(bytes, { status: 200, headers: base });
    const start = Number(m[1]);
    const end = Math.min(bytes.length - 1, m[2] ? Number(m[2]) : bytes.length - 1);
    return new Response(bytes.slice(start, end + 1), { status: 206, headers: { ...base, 'content-range': `bytes ${start}-${end}/${bytes.length}` } });
  };
}

/** Just enough of the page's Lab over LiveStacks, with the disk worker's URL sources and XTS cipher. */
function fakeEnv(log: string[]): { lab: Lab; runner: WorkloadRunner } {
  const urlSources = new UrlSources();
  const platform: SpecPlatform = {
    openFile: () => Promise.reject(new DiskError('UNSUPPORTED', 'no OPFS in Node')),
    blobSource: (blob, name) => new BlobRangeSource(blob, name),
    inflate: browserInflate,
    cipher: nodeXtsCipher,
    http: { fetch: httpFetchOver(rangeServer(log), false) },
  };
  const stacks = new Map<string, LiveStack>();
  let next = 1;
  const get = (id: string) => stacks.get(id) ?? (() => { throw new DiskError('INVALID_INPUT', `no stack ${id}`); })();
  const disk = {
    async openStack(spec: DiskSpec, name: string) {
      const id = `s${next++}`;
      const stack = await LiveStack.open(id, name, spec, urlSources.platformFor(platform, id));
      stacks.set(id, stack);
      return stack.info();
    },
    stackInfo: async (id: string) => get(id).info(),
    addOverlay: (id: string, o: OverlaySpec, secret?: OverlaySecret) => get(id).addOverlay(o, secret),
    removeOverlay: (id: string, node: string) => get(id).removeOverlay(node),
    readSectors: (id: string, lba: number, count: number, view?: SectorView) => get(id).readSectors(lba, count, view),
    runShell: (id: string, line: string) => get(id).runShell(line),
    urlSources: (id: string) => urlSources.info(id),
  };
  const lab = {
    client: { disk },
    openOrThrow: (spec: DiskSpec, name: string) => disk.openStack(spec, name),
    async close(id: string) {
      await get(id).close();
      urlSources.forget(id);
      stacks.delete(id);
    },
    select: () => undefined,
    update: () => undefined,
    refresh: async () => undefined,
  } as unknown as Lab;
  return { lab, runner: {} as WorkloadRunner };
}

afterEach(() => vi.unstubAllGlobals());

/** Runs every step; returns what each question's probe read (undefined for steps without one). */
async function walk(lesson: Lesson, log: string[] = []): Promise<{ values: (LiveValue | undefined)[]; session: LessonSession }> {
  // The session resolves a lesson's page-relative URL against the page's location.
  vi.stubGlobal('location', { href: `${ORIGIN}/?lesson=${lesson.id}` });
  const env = fakeEnv(log);
  const session = new LessonSession(() => env);
  const values: (LiveValue | undefined)[] = [];
  for (const step of lesson.steps) {
    for (const action of step.actions ?? []) await session.run(action);
    const q = step.question;
    const live = q ? await session.probe(q.probe) : undefined;
    if (q && live !== undefined) {
      expect(checkAnswer(q, formatLive(live), live).right, `${lesson.id}: ${q.prompt}`).toBe(true);
      if (q.kind === 'choice') expect(q.options).toContain(live);
      // Probes are read twice (shown, then checked): they must not drift in between.
      expect(await session.probe(q.probe), `${lesson.id}: ${q.prompt} is stable`).toEqual(live);
    }
    values.push(live);
  }
  return { values, session };
}

describe('lesson 6, remote disks, over a range-serving server', () => {
  it('a cold 4 KiB read fetches one 64 KiB chunk, the warm one nothing, a sequential scan reads ahead', async () => {
    const log: string[] = [];
    const { values, session } = await walk(remoteLesson, log);
    const [openRequests, cold, warm, scan, ahead] = values;
    expect(openRequests).toBeGreaterThan(0);
    // Every request the server saw, and nothing else, is counted.
    expect(await session.probe({ kind: 'url-stat', stat: 'requests' })).toBe(log.length);
    expect(log.slice(0, Number(openRequests)).some((r) => r.startsWith('GET'))).toBe(true);
    expect(cold).toBe(64 * KiB);
    expect(warm).toBe(0);
    // Readahead: more than the 192 KiB read, at most the 2 MiB window (half the 4 MiB cache) beyond it.
    expect(scan).toBeGreaterThan(192 * KiB);
    expect(scan).toBeLessThanOrEqual(192 * KiB + 2 * MiB + 64 * KiB);
    expect(ahead).toBe(0);
    expect(values).toHaveLength(5);
    expect(await session.probe({ kind: 'url-stat', stat: 'chunk-size' })).toBe(64 * KiB);
    // The reads came through the chunks intact: the disk's byte 1 MiB is the file's.
    const shown = await session.probe({ kind: 'shell', line: 'read -v 1M 16', match: '^[0-9a-f]+:\\s+([0-9a-f]{2})' });
    expect(String(shown)).toBe(readFileSync('public/sample.vhd')[MiB]!.toString(16).padStart(2, '0'));
  });

  it('a url-stat since a mark that was never set is refused', async () => {
    const { session } = await walk({ ...remoteLesson, steps: remoteLesson.steps.slice(0, 1) });
    await expect(session.probe({ kind: 'url-stat', stat: 'requests', since: 'mark' })).rejects.toThrow('not marked');
  });
});

describe('lesson 7, encryption, with the real XTS-AES cipher', () => {
  it('zeroes over zeroes, plaintext above, no pattern below, different ciphertext per sector, ciphertext without the key', async () => {
    const { values } = await walk(encryptionLesson);
    const [zeroes, plainSame, abBelow, cipherSame, abRaw] = values;
    // All-zero ciphertext reads as zeroes (the Disk contract for never-written sectors).
    expect(zeroes).toBe(512);
    expect(plainSame).toBe('same');
    // Ciphertext looks random: about 2 of 512 bytes match any given byte, far from all of them.
    expect(abBelow).toBeLessThan(20);
    expect(cipherSame).toBe('different');
    // Without the key the guest reads the very ciphertext seen below the layer.
    expect(abRaw).toBe(abBelow);
  });
});

describe('lesson helpers', () => {
  const stats: UrlSourceStats = {
    requests: 10, retries: 0, failures: 0, readaheadRequests: 1, bytesFetched: 5000, bytesServed: 3000, hitRatio: 0.5, inFlight: 0, peakInFlight: 2,
    latency: { count: 10, p50Ns: 1, p90Ns: 1, p99Ns: 1, maxNs: 1 },
  };

  it('urlStat counts from a mark, except the ratio and the chunk size', () => {
    const mark = { ...stats, requests: 4, bytesFetched: 1000, bytesServed: 2500, hitRatio: 0.1 };
    expect(urlStat(stats, 65536, 'requests', mark)).toBe(6);
    expect(urlStat(stats, 65536, 'bytes-fetched', mark)).toBe(4000);
    expect(urlStat(stats, 65536, 'bytes-served', mark)).toBe(500);
    expect(urlStat(stats, 65536, 'hit-ratio', mark)).toBe(0.5);
    expect(urlStat(stats, 65536, 'chunk-size')).toBe(65536);
    expect(urlStat(stats, 65536, 'requests')).toBe(10);
  });

  it('lessonKeyFile is 64 bytes, deterministic, with differing halves and seeds', () => {
    const k = lessonKeyFile(7);
    expect(k).toHaveLength(64);
    expect([...lessonKeyFile(7)]).toEqual([...k]);
    expect(sameBytes(k.subarray(0, 32), k.subarray(32))).toBe(false);
    expect(sameBytes(lessonKeyFile(8), k)).toBe(false);
  });

  it('countByte, sameBytes and uniqueTarget', () => {
    expect(countByte(new Uint8Array([1, 0xab, 0xab, 3]), 0xab)).toBe(2);
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
    expect(uniqueTarget('lesson-mirror.img')).toMatch(/^lesson-mirror-[0-9a-z]+\.img$/);
    expect(uniqueTarget('plain')).toMatch(/^plain-[0-9a-z]+$/);
  });

  it('validateLesson refuses the new actions before a stack is open', () => {
    const lesson: Lesson = { ...encryptionLesson, steps: [{ title: 't', text: 'x.', actions: [{ kind: 'add-crypt', keySeed: 1 }, { kind: 'url-mark' }, { kind: 'fingerprint' }] }] };
    expect(validateLesson(lesson)).toEqual([
      "encryption step 1: 'add-crypt' needs a stack opened by an earlier action",
      "encryption step 1: 'url-mark' needs a stack opened by an earlier action",
      "encryption step 1: 'fingerprint' needs a stack opened by an earlier action",
    ]);
  });

  it('the block-jobs lesson mirrors with a writing workload and checks the copy after completing', () => {
    expect(validateLesson(blockJobsLesson)).toEqual([]);
    const kinds = blockJobsLesson.steps.flatMap((s) => s.actions ?? []).map((a) => a.kind);
    expect(kinds.indexOf('mirror')).toBeLessThan(kinds.indexOf('fingerprint'));
    expect(kinds.indexOf('fingerprint')).toBeLessThan(kinds.indexOf('complete-job'));
    expect(blockJobsLesson.steps.at(-1)?.question?.probe).toEqual({ kind: 'fingerprint-match' });
  });
});
