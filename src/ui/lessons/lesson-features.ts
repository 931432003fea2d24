/**
 * The live-state helpers of lessons 6, 7 and 10 (remote disks, encryption, block jobs), used by
 * LessonSession: reading an HTTP source's statistics once it is idle, a lesson's deterministic
 * key file, comparing sectors at the two levels of a crypt stack, fingerprinting a whole disk,
 * and waiting on a block job's state. They only call the disk worker's own API (the `disk` client
 * the page uses), so what a lesson checks is what the panels show.
 *
 * Errors: LessonError when the state a helper needs is missing (no HTTP source, a job that ended
 * before it was ready, a wait that timed out); the worker's DiskErrors pass through.
 */
import type { SectorView, StackId } from '../../../workers/api.ts';
import type { JobInfo } from '../../../workers/storage-api.ts';
import type { UrlSourceStats } from '../../../workers/url-cache-api.ts';
import type { Lab } from '../lab/lab-context.tsx';
import type { SectorRef } from './lesson.ts';

type DiskClient = Lab['client']['disk'];

export class LessonError extends Error {
  override readonly name = 'LessonError';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The statistics of the stack's image source, read once no request (readahead) is in flight. */
export async function idleUrlStats(disk: DiskClient, id: StackId, timeoutMs = 10_000): Promise<{ stats: UrlSourceStats; chunkSize: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [source] = await disk.urlSources(id);
    if (!source) throw new LessonError('the active stack reads no URL');
    // Readahead runs in the background: a figure read mid-flight would change under the student.
    if (source.stats.inFlight === 0 || Date.now() > deadline) return { stats: source.stats, chunkSize: source.chunkSize };
    await sleep(50);
  }
}

export type UrlStatName = 'requests' | 'bytes-fetched' | 'bytes-served' | 'hit-ratio' | 'chunk-size';

/** One statistic; counters are taken relative to `mark` when given (the hit ratio never is). */
export function urlStat(stats: UrlSourceStats, chunkSize: number, stat: UrlStatName, mark?: UrlSourceStats): number {
  switch (stat) {
    case 'requests':
      return stats.requests - (mark?.requests ?? 0);
    case 'bytes-fetched':
      return stats.bytesFetched - (mark?.bytesFetched ?? 0);
    case 'bytes-served':
      return stats.bytesServed - (mark?.bytesServed ?? 0);
    case 'hit-ratio':
      return stats.hitRatio;
    case 'chunk-size':
      return chunkSize;
  }
}

/**
 * A 64-byte XTS key file (data key, then tweak key) made from a seed: a lesson needs a key it can
 * state, and the two halves differ (some XTS implementations refuse equal halves).
 */
export function lessonKeyFile(seed: number): Uint8Array {
  const key = new Uint8Array(64);
  for (let i = 0; i < 64; i++) key[i] = (seed * 131 + i * 37 + (i >> 5) * 101) & 0xff;
  return key;
}

export async function readSector(disk: DiskClient, id: StackId, ref: SectorRef): Promise<Uint8Array> {
  const dump = await disk.readSectors(id, ref.lba, 1, ref.view satisfies SectorView);
  return dump.data;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function countByte(data: Uint8Array, byte: number): number {
  let n = 0;
  for (const v of data) if (v === byte) n++;
  return n;
}

/** SHA-256 (hex) of everything the stack's guest reads, read in 1 MiB pieces. */
export async function fingerprint(disk: DiskClient, id: StackId): Promise<string> {
  const info = await disk.stackInfo(id);
  const per = Math.max(1, Math.floor((1 << 20) / info.sectorSize));
  const all = new Uint8Array(info.sectorCount * info.sectorSize);
  for (let lba = 0; lba < info.sectorCount; lba += per) {
    const count = Math.min(per, info.sectorCount - lba);
    all.set((await disk.readSectors(id, lba, count)).data, lba * info.sectorSize);
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const ENDED = ['completed', 'cancelled', 'failed'];

/** Polls the job until `done(info)` or it ends; resolves with the last snapshot. */
export async function waitJob(disk: DiskClient, jobId: string, done: (info: JobInfo) => boolean, timeoutMs = 60_000): Promise<JobInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await disk.listJobs()).find((j) => j.id === jobId);
    if (!info) throw new LessonError(`job ${jobId} is gone`);
    if (done(info) || ENDED.includes(info.state)) return info;
    if (Date.now() > deadline) throw new LessonError(`job ${jobId} is still ${info.state} after ${timeoutMs / 1000} s`);
    await sleep(25);
  }
}

/** A target name no earlier run of the lesson used (OPFS keeps images across reloads). */
export function uniqueTarget(base: string): string {
  const dot = base.lastIndexOf('.');
  const stamp = Date.now().toString(36);
  return dot > 0 ? `${base.slice(0, dot)}-${stamp}${base.slice(dot)}` : `${base}-${stamp}`;
}
