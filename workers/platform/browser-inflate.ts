/**
 * The `Inflate` port in the browser, for qcow2's compressed clusters.
 *
 * Why fflate and not DecompressionStream('deflate-raw'): qcow2 pads each compressed cluster to
 * whole sectors, and the platform stream rejects bytes after the deflate end marker ("junk"),
 * discarding output it had already produced. fflate decodes into a caller-sized buffer and stops
 * at the final block, which is exactly the port's promise.
 */
import { inflateSync } from 'fflate';
import type { Inflate } from '../../src/core/ports/inflate.ts';

export const browserInflate: Inflate = {
  async inflateRaw(input, outputLength) {
    const out = new Uint8Array(outputLength);
    const produced = inflateSync(input, { out });
    // fflate returns a shorter view when the stream ended early: the port promises exact output.
    if (produced.length < outputLength) {
      throw new Error(`deflate stream ended after ${produced.length} of ${outputLength} bytes`);
    }
    return produced.length === outputLength ? produced : produced.subarray(0, outputLength);
  },
};
