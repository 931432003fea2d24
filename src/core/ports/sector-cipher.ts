/**
 * `SectorCipher`: a length-preserving, per-sector cipher keyed once at construction: XTS-AES-256
 * with dm-crypt's `aes-xts-plain64` tweaks (src/core/crypto/wasm-xts.ts implements it over the
 * Rust/wasm module in crates/xts).
 *
 * Promises
 * - `encrypt` / `decrypt` transform `data` in place, synchronously: `data.length / sectorSize`
 *   whole sectors, sector i using tweak `firstSector + i` (a 128-bit little-endian integer).
 *   `firstSector` is a non-negative bigint below 2^65 (a sector number plus an IV offset, each
 *   below 2^64). `decrypt(encrypt(x))` is `x` for the same tweak; sectors are independent, so any
 *   run of sectors can be processed alone with its own first tweak.
 * - `sectorSize` is a power of two from 512 to 4096 (what dm-crypt allows).
 * - The implementation keeps no copy of the data after a call returns, and `dispose` wipes the
 *   key; a disposed cipher rejects further calls.
 * Errors: a buffer that is not whole sectors, a bad sector size or tweak, or use after `dispose`
 * throw `DiskError('INVALID_INPUT')`; a bad key is refused at construction with a
 * `DiskConfigError` (see src/core/crypto/xts-key.ts).
 */
export interface SectorCipher {
  /** What the cipher is, for display: 'aes-xts-plain64'. */
  readonly name: string;
  encrypt(data: Uint8Array, firstSector: bigint, sectorSize: number): void;
  decrypt(data: Uint8Array, firstSector: bigint, sectorSize: number): void;
  /** Wipes the key. Harmless to call twice. */
  dispose(): void;
}
