/**
 * HttpRangeSource: a `RangeSource` over HTTP range requests, through the `HttpFetch` port, so the
 * same code serves the disk worker and the Node CLI. Open it with `HttpRangeSource.open(url, ...)`.
 *
 * Promises
 * - `read(offset, length)` resolves with exactly the object's bytes, all from the version the
 *   source opened (every response is validated against its ETag/Last-Modified and size; see
 *   response-check.ts), or rejects. Never a short, padded or mixed result.
 * - The object is read in fixed chunks (default 1 MiB) kept in an LRU cache of bounded size
 *   (default 64 MiB). Adjacent missing chunks of a read go out as one request (up to
 *   `maxRequestBytes`), and each chunk of it reaches the reads waiting for it as soon as its last
 *   byte arrived; a chunk already being fetched is awaited, never fetched twice; at most
 *   `maxInFlight` requests run at once. After three reads in a row that follow each other, up to
 *   `readaheadBytes` past the read are fetched ahead in large requests (never more than half the
 *   cache, at most two readahead requests at once).
 * - Statistics: `stats()` (requests, bytes fetched vs served, hit ratio, in flight, latency
 *   histogram) and `cachedChunks()` for an occupancy map.
 * - `close()` aborts requests in flight and drops the cache; later reads reject with ABORTED.
 * Without an ETag or Last-Modified from the server (`identity` undefined), a changed object can
 * only be noticed by its size; `validated` says so for the UI.
 *
 * Errors: `HttpSourceError` (a DiskError): NETWORK with a `reason` for everything the server or
 * network did, OUT_OF_RANGE for a read outside the object, ABORTED after close. Bad options are
 * DiskConfigErrors naming the option.
 */
import { DiskConfigError } from '../disk/errors.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { HttpFetch } from '../ports/http-fetch.ts';
import type { RangeSource } from '../ports/range-source.ts';
import { ChunkCache, copyOut, type Chunk } from './chunk-cache.ts';
import { HttpSourceError } from './http-error.ts';
import { HttpSourceStats, type HttpSourceStatsSnapshot } from './http-stats.ts';
import { probeObject } from './probe.ts';
import { RangeFetcher } from './range-fetcher.ts';
import { coalesce, readaheadPlan, RequestLimiter, SequentialDetector, type ChunkRun } from './read-planner.ts';
import { identityOf, type ObjectValidator } from './response-check.ts';

const MiB = 1024 * 1024;
const MAX_READAHEAD_REQUESTS = 2;

export interface HttpRangeSourceOptions {
  readonly fetch: HttpFetch;
  readonly clock?: Clock;
  /** Bytes per cached chunk; default 1 MiB. */
  readonly chunkSize?: number;
  /** Memory for cached chunks; default 64 MiB. */
  readonly cacheBytes?: number;
  /** Largest single request when coalescing; default 8 MiB (at least one chunk). */
  readonly maxRequestBytes?: number;
  /** Requests in flight at once; default 4. */
  readonly maxInFlight?: number;
  /** Sequential readahead window; default 32 MiB (at most half the cache), 0 turns it off. */
  readonly readaheadBytes?: number;
  /** Overall time for one request, its retry and the backoff between them; default 30 s. */
  readonly deadlineMs?: number;
  /** Backoff before the one retry of a transient failure; default 250 ms. */
  readonly retryDelayMs?: number;
}

export const HTTP_SOURCE_DEFAULTS = {
  chunkSize: MiB,
  cacheBytes: 64 * MiB,
  maxRequestBytes: 8 * MiB,
  maxInFlight: 4,
  readaheadBytes: 32 * MiB,
  deadlineMs: 30_000,
  retryDelayMs: 250,
} as const;

type Settings = { -readonly [K in keyof typeof HTTP_SOURCE_DEFAULTS]: number };

export class HttpRangeSource implements RangeSource {
  readonly name: string;
  readonly url: string;
  readonly size: number;
  readonly identity: string | undefined;
  readonly validator: ObjectValidator;
  readonly settings: Readonly<Settings>;
  readonly #fetcher: RangeFetcher;
  readonly #stats: HttpSourceStats;
  readonly #cache: ChunkCache;
  readonly #inflight = new Map<number, Promise<Chunk>>();
  readonly #limiter: RequestLimiter;
  readonly #detector = new SequentialDetector();
  readonly #chunksPerRequest: number;
  readonly #readaheadChunks: number;
  #readaheadActive = 0;
  readonly #chunkCount: number;

  /** Probes `url` (HEAD, or a ranged GET) for size and identity and returns the open source. */
  static async open(url: string, options: HttpRangeSourceOptions): Promise<HttpRangeSource> {
    if (!/^https?:\/\//i.test(url)) throw new DiskConfigError('INVALID_PARAMETER', 'url', `${url} is not an http or https URL`, { value: url });
    const settings = settingsOf(options);
    const stats = new HttpSourceStats();
    const fetcher = new RangeFetcher({ fetch: options.fetch, clock: options.clock ?? systemClock, url, deadlineMs: settings.deadlineMs, retryDelayMs: settings.retryDelayMs, stats });
    const probe = await probeObject(fetcher, settings.chunkSize);
    fetcher.size = probe.size;
    fetcher.validator = probe.validator;
    const source = new HttpRangeSource(url, settings, fetcher, stats, probe.validator);
    if (probe.head !== undefined && probe.head.length === Math.min(settings.chunkSize, probe.size)) source.#cache.put(0, probe.head);
    return source;
  }

  private constructor(url: string, settings: Settings, fetcher: RangeFetcher, stats: HttpSourceStats, validator: ObjectValidator) {
    this.name = url;
    this.url = url;
    this.settings = settings;
    this.size = fetcher.size;
    this.validator = validator;
    this.identity = identityOf(validator);
    this.#fetcher = fetcher;
    this.#stats = stats;
    this.#cache = new ChunkCache(settings.cacheBytes);
    this.#limiter = new RequestLimiter(settings.maxInFlight);
    this.#chunksPerRequest = Math.max(1, Math.floor(settings.maxRequestBytes / settings.chunkSize));
    const readahead = Math.min(settings.readaheadBytes, Math.floor(settings.cacheBytes / 2));
    this.#readaheadChunks = Math.floor(readahead / settings.chunkSize);
    this.#chunkCount = Math.ceil(this.size / settings.chunkSize);
  }

  /** True when the server gave a validator, so a changed object is detected (not only a resized one). */
  get validated(): boolean {
    return this.identity !== undefined;
  }

  stats(): HttpSourceStatsSnapshot {
    return this.#stats.snapshot(this.#cache);
  }

  /** Indexes of the chunks held in memory, ascending; chunk i covers bytes [i, i+1) * chunkSize. */
  cachedChunks(): number[] {
    return this.#cache.indexes();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(length) || length < 0) this.#checkRange(offset, length);
    const out = new Uint8Array(length);
    await this.readInto(offset, out);
    return out;
  }

  /**
   * `read` into the caller's buffer (`into.length` bytes at `offset`), sparing a consumer that
   * copies anyway (BlobDisk, an ImageFile) one allocation and one copy per read. `into` is written
   * only once every byte has arrived, so a failed read leaves it untouched.
   */
  async readInto(offset: number, into: Uint8Array): Promise<void> {
    const length = into.length;
    this.#checkRange(offset, length);
    if (length === 0) return;
    const out = into;
    const stats = this.#stats;
    stats.reads++;
    const cs = this.settings.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + length - 1) / cs);
    const parts: Array<Chunk | Promise<Chunk> | undefined> = [];
    const missing: number[] = [];
    for (let i = first; i <= last; i++) {
      const cached = this.#cache.get(i);
      const pending = cached === undefined ? this.#inflight.get(i) : undefined;
      if (cached !== undefined) stats.chunkHits++;
      else if (pending !== undefined) stats.chunkWaits++;
      else {
        stats.chunkMisses++;
        missing.push(i);
      }
      parts.push(cached ?? pending);
    }
    for (const run of coalesce(missing, this.#chunksPerRequest)) this.#startRun(run, false);
    for (const i of missing) parts[i - first] = this.#inflight.get(i);
    if (this.#detector.observe(offset, first, last) >= 2) this.#readahead(last);
    const chunks = await Promise.all(parts);
    for (let k = 0; k < chunks.length; k++) {
      const chunk = chunks[k]!;
      const chunkStart = (first + k) * cs;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + length, chunkStart + chunk.length);
      copyOut(chunk, from - chunkStart, to - chunkStart, out, from - offset);
    }
    stats.bytesServed += length;
  }

  #checkRange(offset: number, length: number): void {
    if (this.#fetcher.closed) throw this.#fetcher.closedError();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new HttpSourceError('range', this.url, `read of ${length} bytes at ${offset} is outside the ${this.size}-byte object`, { code: 'OUT_OF_RANGE' });
    }
  }

  async close(): Promise<void> {
    this.#fetcher.close();
    this.#cache.clear();
    this.#inflight.clear();
  }

  #readahead(lastChunk: number): void {
    const plan = readaheadPlan(lastChunk, this.#readaheadChunks, this.#chunkCount, (i) => this.#cache.has(i) || this.#inflight.has(i));
    for (const run of coalesce(plan, this.#chunksPerRequest)) {
      // Readahead never queues: it only uses a slot nobody is waiting for, and at most two, so
      // demand reads of a second stream still find a slot.
      if (this.#readaheadActive >= MAX_READAHEAD_REQUESTS || !this.#limiter.tryAcquire()) return;
      this.#stats.readaheadRequests++;
      this.#readaheadActive++;
      this.#startRun(run, true, () => this.#readaheadActive--);
    }
  }

  /** Fetches a run of chunks in one request, publishing a promise per chunk for readers to share. */
  #startRun(run: ChunkRun, slotHeld: boolean, onEnd?: () => void): void {
    const cs = this.settings.chunkSize;
    const lengths: number[] = [];
    const settle: Array<{ resolve: (c: Chunk) => void; reject: (e: unknown) => void; promise: Promise<Chunk> }> = [];
    for (let i = run.first; i < run.first + run.count; i++) {
      lengths.push(Math.min(cs, this.size - i * cs));
      let resolve!: (c: Chunk) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<Chunk>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A readahead nobody waits for may fail; that must not surface as an unhandled rejection.
      promise.catch(() => undefined);
      settle.push({ resolve, reject, promise });
      this.#inflight.set(i, promise);
    }
    const finish = (index: number, promise: Promise<Chunk>) => {
      if (this.#inflight.get(index) === promise) this.#inflight.delete(index);
    };
    void (async () => {
      // Take a free slot synchronously, so a demand request is sent before this read's readahead.
      if (!slotHeld && !this.#limiter.tryAcquire()) await this.#limiter.acquire();
      try {
        if (this.#fetcher.closed) throw this.#fetcher.closedError();
        // Each chunk is published as soon as it is complete; a retry may deliver it again.
        await this.#fetcher.fetchRange(run.first * cs, lengths, (k, chunk) => {
          const s = settle[k]!;
          if (!this.#fetcher.closed) this.#cache.put(run.first + k, chunk);
          finish(run.first + k, s.promise);
          s.resolve(chunk);
        });
      } catch (e) {
        settle.forEach((s, k) => {
          finish(run.first + k, s.promise);
          s.reject(e);
        });
      } finally {
        this.#limiter.release();
        onEnd?.();
      }
    })();
  }
}

function settingsOf(options: HttpRangeSourceOptions): Settings {
  const s: Settings = { ...HTTP_SOURCE_DEFAULTS };
  for (const key of Object.keys(HTTP_SOURCE_DEFAULTS) as Array<keyof Settings>) {
    const value = options[key];
    if (value === undefined) continue;
    const min = key === 'chunkSize' || key === 'maxInFlight' || key === 'deadlineMs' ? 1 : 0;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new DiskConfigError('INVALID_PARAMETER', key, `${key} ${String(value)} must be an integer >= ${min}`, { value });
    }
    s[key] = value;
  }
  return s;
}
