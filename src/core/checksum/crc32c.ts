/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of VHDX's headers, region
 * tables and log entries, and of the workload's verify blocks (as fio's default verify uses).
 * One implementation for the whole core, slicing-by-8 (eight table lookups per 8 bytes), because
 * verify workloads checksum every block they read.
 *
 * Promise: `crc32c(bytes)` is the standard CRC-32C (init and final xor 0xFFFFFFFF) as an unsigned
 * 32-bit number, `crc32c("123456789") === 0xE3069283`; passing a previous result as `crc`
 * continues it, so `crc32c(b, crc32c(a)) === crc32c(a ++ b)`.
 */

const TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = t[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    const prev = t[k - 1]!;
    const cur = t[k]!;
    for (let n = 0; n < 256; n++) cur[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
  }
  return t;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c =
      T7[c & 0xff]! ^
      T6[(c >>> 8) & 0xff]! ^
      T5[(c >>> 16) & 0xff]! ^
      T4[c >>> 24]! ^
      T3[data[i + 4]!]! ^
      T2[data[i + 5]!]! ^
      T1[data[i + 6]!]! ^
      T0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = T0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const ZERO4 = new Uint8Array(4);

/** CRC-32C of `bytes` with the 4-byte field at `at` taken as zero (without copying), as VHDX and verify blocks define theirs. */
export function crc32cWithZeroedField(bytes: Uint8Array, at: number): number {
  let c = crc32c(bytes.subarray(0, at));
  c = crc32c(ZERO4, c);
  return crc32c(bytes.subarray(at + 4), c);
}
