/**
 * Planning of chunk requests: which chunks a read touches, how adjacent misses coalesce into one
 * request, when a stream of reads is sequential, and which chunks to read ahead. Pure functions and
 * one small state machine, so the policy is testable without any I/O.
 *
 * Promises
 * - `coalesce` turns ascending chunk indexes into runs of consecutive indexes, each at most
 *   `maxChunks` long, in ascending order; every index lands in exactly one run.
 * - `SequentialDetector.observe` reports a streak: how many reads in a row started in the chunk
 *   where the previous read ended, or the next one (a gap of less than a chunk still streams).
 * - `readaheadPlan` asks for nothing until fewer than half of the window's chunks past the read
 *   are present, then for every absent chunk of the window, so readahead goes out in large requests
 *   rather than one chunk per read.
 */

export interface ChunkRun {
  readonly first: number;
  readonly count: number;
}

export function coalesce(indexes: readonly number[], maxChunks: number): ChunkRun[] {
  const runs: ChunkRun[] = [];
  let first = -1;
  let count = 0;
  for (const i of indexes) {
    if (count > 0 && i === first + count && count < maxChunks) {
      count++;
      continue;
    }
    if (count > 0) runs.push({ first, count });
    first = i;
    count = 1;
  }
  if (count > 0) runs.push({ first, count });
  return runs;
}

export class SequentialDetector {
  #lastEndChunk = -2;
  #lastStart = -1;
  #streak = 0;

  /** Records a read of chunks [firstChunk, lastChunk] starting at `offset`; returns the streak length. */
  observe(offset: number, firstChunk: number, lastChunk: number): number {
    const follows = offset > this.#lastStart && firstChunk >= this.#lastEndChunk && firstChunk <= this.#lastEndChunk + 1;
    this.#streak = follows ? this.#streak + 1 : 0;
    this.#lastEndChunk = lastChunk;
    this.#lastStart = offset;
    return this.#streak;
  }
}

/**
 * Chunks to read ahead after a read ending in chunk `lastChunk`: absent chunks among the next
 * `windowChunks` (not past `chunkCount`), once fewer than half of them are present.
 */
export function readaheadPlan(lastChunk: number, windowChunks: number, chunkCount: number, present: (index: number) => boolean): number[] {
  const end = Math.min(chunkCount, lastChunk + 1 + windowChunks);
  let ahead = 0;
  for (let i = lastChunk + 1; i < end && present(i); i++) ahead++;
  if (lastChunk + 1 + ahead >= end || ahead >= windowChunks / 2) return [];
  const out: number[] = [];
  for (let i = lastChunk + 1 + ahead; i < end; i++) if (!present(i)) out.push(i);
  return out;
}

/** A counting semaphore: at most `limit` holders; waiters are served first come, first served. */
export class RequestLimiter {
  readonly limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Takes a slot only if one is free now and nobody is waiting (for optional work like readahead). */
  tryAcquire(): boolean {
    if (this.#active >= this.limit || this.#waiting.length > 0) return false;
    this.#active++;
    return true;
  }

  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter, so `active` stays the same.
    if (next !== undefined) next();
    else this.#active--;
  }
}
