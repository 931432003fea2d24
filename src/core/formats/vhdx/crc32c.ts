/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every VHDX header,
 * region table and log entry. Table-driven, one byte at a time: the structures it covers are
 * at most a few megabytes, read once at open.
 *
 * Promise: `crc32c(bytes)` is the standard CRC-32C (init 0xFFFFFFFF, final xor 0xFFFFFFFF), as
 * an unsigned 32-bit number; `crc32c("123456789") === 0xE3069283`. `crc32cWithZeroedField`
 * computes it as if the 4 bytes at `at` were zero, which is how VHDX defines its checksums.
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  let c = crc;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

export function crc32c(bytes: Uint8Array): number {
  return (update(0xffffffff, bytes, 0, bytes.length) ^ 0xffffffff) >>> 0;
}

/** CRC-32C of `bytes` with the 4-byte checksum field at `at` taken as zero (without copying). */
export function crc32cWithZeroedField(bytes: Uint8Array, at: number): number {
  let c = update(0xffffffff, bytes, 0, at);
  c = update(c, new Uint8Array(4), 0, 4);
  c = update(c, bytes, at + 4, bytes.length);
  return (c ^ 0xffffffff) >>> 0;
}
