/**
 * `Inflate`: raw-deflate (RFC 1951, no zlib or gzip wrapper) decompression, the codec of qcow2's
 * compressed clusters. Node implements it with node:zlib, the browser with
 * DecompressionStream('deflate-raw').
 *
 * Promises
 * - `inflateRaw(input, outputLength)` resolves with exactly `outputLength` bytes: the first
 *   `outputLength` bytes the stream decodes to. Input after the point where that many bytes have
 *   been produced (or after the stream's end marker) is ignored: qcow2 packs compressed clusters
 *   into whole sectors, so trailing bytes are normal.
 * - It never produces (or allocates for) more than `outputLength` bytes of output.
 * Errors: a stream that is malformed, or that ends before `outputLength` bytes, rejects (any
 * Error); callers turn that into a typed DiskError naming what they were decompressing.
 */
export interface Inflate {
  inflateRaw(input: Uint8Array, outputLength: number): Promise<Uint8Array>;
}
