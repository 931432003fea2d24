/**
 * ChunkCache: fixed-size chunks of a remote object kept in memory, least recently used first out.
 *
 * A chunk is kept as the pieces its response body arrived in (`Chunk`), so filling the cache costs
 * no copy; `copyOut` copies a window of a chunk into a caller's buffer. A piece cut at a chunk
 * boundary is shared by both chunks, so memory actually held can exceed `bytes` by up to one body
 * piece (typically 64 KiB) per cached chunk.
 *
 * Promises: the bytes held never exceed `capacityBytes` (a capacity below one chunk holds
 * nothing); `get` refreshes a chunk's recency; `put` of a chunk already present replaces it.
 * Chunks are stored as given (the caller hands over ownership), never copied or modified.
 * It knows nothing of HTTP: keys are chunk indexes, values the chunk's bytes.
 */

/** One chunk's bytes: consecutive pieces. */
export interface Chunk {
  readonly length: number;
  readonly pieces: readonly Uint8Array[];
}

export function chunkOf(pieces: readonly Uint8Array[]): Chunk {
  return { length: pieces.reduce((n, p) => n + p.length, 0), pieces };
}

/** Copies the chunk's bytes [from, to) into `out` at `at`. */
export function copyOut(chunk: Chunk, from: number, to: number, out: Uint8Array, at: number): void {
  let start = 0;
  for (const piece of chunk.pieces) {
    const end = start + piece.length;
    if (end > from && start < to) {
      const a = Math.max(from, start) - start;
      const b = Math.min(to, end) - start;
      out.set(piece.subarray(a, b), at + start + a - from);
    }
    if (end >= to) break;
    start = end;
  }
}
export class ChunkCache {
  readonly capacityBytes: number;
  // A Map iterates in insertion order, so deleting and re-inserting on use makes the first key the LRU one.
  readonly #chunks = new Map<number, Chunk>();
  #bytes = 0;

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) throw new RangeError(`cache capacity ${capacityBytes} is not a byte count`);
    this.capacityBytes = capacityBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#chunks.size;
  }

  has(index: number): boolean {
    return this.#chunks.has(index);
  }

  get(index: number): Chunk | undefined {
    const chunk = this.#chunks.get(index);
    if (chunk !== undefined) {
      this.#chunks.delete(index);
      this.#chunks.set(index, chunk);
    }
    return chunk;
  }

  put(index: number, chunk: Chunk): void {
    this.delete(index);
    if (chunk.length > this.capacityBytes) return;
    this.#chunks.set(index, chunk);
    this.#bytes += chunk.length;
    for (const [oldest, bytes] of this.#chunks) {
      if (this.#bytes <= this.capacityBytes) break;
      this.#chunks.delete(oldest);
      this.#bytes -= bytes.length;
    }
  }

  delete(index: number): void {
    const old = this.#chunks.get(index);
    if (old === undefined) return;
    this.#chunks.delete(index);
    this.#bytes -= old.length;
  }

  /** Indexes of the cached chunks, ascending (for an occupancy map). */
  indexes(): number[] {
    return [...this.#chunks.keys()].sort((a, b) => a - b);
  }

  clear(): void {
    this.#chunks.clear();
    this.#bytes = 0;
  }
}
