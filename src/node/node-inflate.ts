/**
 * Node implementation of the Inflate port (src/core/ports/inflate.ts) over node:zlib.
 *
 * A sync flush at the end lets a stream that stops before its end marker still yield what it
 * decoded (qcow2 stops reading once a cluster is produced); `maxOutputLength` caps allocation at
 * the requested size, so a hostile stream cannot balloon. Errors: zlib's, or a short output.
 */
import { constants, inflateRawSync } from 'node:zlib';
import type { Inflate } from '../core/ports/inflate.ts';

export const nodeInflate: Inflate = {
  async inflateRaw(input, outputLength) {
    let out: Uint8Array;
    try {
      out = inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, outputLength) });
    } catch (e) {
      // Output beyond the cap means the stream holds more than asked for: keep the first bytes.
      if ((e as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw e;
      out = inflatePrefix(input, outputLength);
    }
    if (out.length < outputLength) throw new Error(`raw deflate stream yields ${out.length} bytes, ${outputLength} expected`);
    return new Uint8Array(out.buffer, out.byteOffset, outputLength).slice();
  },
};

/** Decodes only the first `length` bytes of a stream that decodes to more, chunk by chunk. */
function inflatePrefix(input: Uint8Array, length: number): Uint8Array {
  // inflateRawSync has no "stop after n bytes"; decoding with a cap of n + 1 chunk then slicing
  // would still throw, so feed the input in growing prefixes until n bytes come out.
  for (let take = Math.min(input.length, 512); ; take = Math.min(input.length, take * 2)) {
    try {
      const out = inflateRawSync(input.subarray(0, take), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: length + 65536 });
      if (out.length >= length || take === input.length) return out;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || take === input.length) throw e;
    }
  }
}
