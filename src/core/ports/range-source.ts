/**
 * `RangeSource`: read-only bytes fetched by exact range: an HTTP object, a `File`, a local file.
 *
 * Promises: `size` is fixed for the source's life; `identity` (an ETag, a Last-Modified stamp, a
 * file's mtime) changes when the content may have; `read(offset, length)` resolves with exactly
 * `length` bytes or rejects (`OUT_OF_RANGE` past the end, `NETWORK` for a transport failure or a
 * changed object), never a short or padded result.
 */
export interface RangeSource {
  readonly size: number;
  readonly identity: string | undefined;
  /** Human-readable origin for messages: a URL or file name. */
  readonly name: string;
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: the same read, into the caller's buffer (exactly `into.length` bytes at `offset`),
   * for sources that can fill it without an intermediate copy. Same errors as `read`.
   */
  readInto?(offset: number, into: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
