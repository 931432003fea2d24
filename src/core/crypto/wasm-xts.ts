/**
 * The one loader of the XTS-AES-256 wasm module (crates/xts): it instantiates the module and
 * implements the `SectorCipher` port over its raw C ABI. Platform glue supplies the bytes or a
 * compiled module (src/node/xts-wasm.ts reads the file; workers/platform/xts-wasm.ts fetches it).
 *
 * Promises
 * - One wasm instance per key, so keys never share linear memory; `dispose` clears the key inside
 *   the instance (the crate zeroises its round keys) and wipes the working buffer.
 * - Data is processed in chunks of at most `CHUNK_BYTES`: each chunk is copied into the instance's
 *   working buffer, transformed, copied out, and the buffer zeroed before the call returns, so the
 *   instance never holds plaintext (or ciphertext) longer than the call. The buffer is allocated on
 *   first use and grown when a larger sector size needs it; wasm memory grows as the allocator asks.
 * - The key is copied in, expanded, and its copy in linear memory zeroed before `createXtsCipher`
 *   resolves.
 * Errors: an unusable key is a `DiskConfigError` (xts-key.ts); bad buffers, sector sizes or tweaks
 * and use after `dispose` are `DiskError('INVALID_INPUT')`; a module without the expected exports
 * is a `DiskConfigError('UNSUPPORTED_FORMAT')`.
 */
import { DiskConfigError, DiskError } from '../disk/errors.ts';
import type { SectorCipher } from '../ports/sector-cipher.ts';
import { checkXtsKey, XTS_KEY_BYTES } from './xts-key.ts';

/** Status codes of crates/xts/src/lib.rs. */
const STATUS_OK = 0;
const STATUS_EQUAL_HALVES = 1;

/** Large enough to amortise the call, small enough to stay in cache between copy in and out. */
export const CHUNK_BYTES = 256 * 1024;

const U64_MAX = 2n ** 64n - 1n;

interface XtsExports {
  readonly memory: WebAssembly.Memory;
  xts_alloc(len: number): number;
  xts_free(ptr: number, len: number): void;
  xts_set_key(ptr: number): number;
  xts_clear_key(): void;
  xts_encrypt(ptr: number, len: number, first: bigint, ivOffset: bigint, sectorSize: number): number;
  xts_decrypt(ptr: number, len: number, first: bigint, ivOffset: bigint, sectorSize: number): number;
}

const EXPORTS = ['memory', 'xts_alloc', 'xts_free', 'xts_set_key', 'xts_clear_key', 'xts_encrypt', 'xts_decrypt'] as const;

export type XtsWasmSource = Uint8Array | WebAssembly.Module;

/** Compiles the module once; instantiate it per key with `createXtsCipher`. */
export function compileXtsModule(bytes: Uint8Array): Promise<WebAssembly.Module> {
  return WebAssembly.compile(bytes);
}

/** A `SectorCipher` for `key` (64 bytes) over a fresh instance of the module. */
export async function createXtsCipher(source: XtsWasmSource, key: Uint8Array): Promise<WasmXtsCipher> {
  checkXtsKey(key);
  const module = source instanceof Uint8Array ? await compileXtsModule(source) : source;
  const instance = await WebAssembly.instantiate(module, {});
  for (const name of EXPORTS) {
    if (!(name in instance.exports)) {
      throw new DiskConfigError('UNSUPPORTED_FORMAT', 'wasm', `the XTS wasm module lacks the export '${name}'`);
    }
  }
  const exports = instance.exports as unknown as XtsExports;
  const keyPtr = exports.xts_alloc(XTS_KEY_BYTES);
  new Uint8Array(exports.memory.buffer, keyPtr, XTS_KEY_BYTES).set(key);
  const status = exports.xts_set_key(keyPtr);
  exports.xts_free(keyPtr, XTS_KEY_BYTES); // the crate zeroes freed buffers
  if (status === STATUS_EQUAL_HALVES) {
    throw new DiskConfigError('INVALID_PARAMETER', 'key', 'key is refused: its two 32-byte halves are equal, which XTS forbids');
  }
  if (status !== STATUS_OK) throw new DiskConfigError('INVALID_PARAMETER', 'key', `the XTS module refused the key (status ${status})`);
  return new WasmXtsCipher(exports);
}

export class WasmXtsCipher implements SectorCipher {
  readonly name = 'aes-xts-plain64';
  readonly #x: XtsExports;
  #ptr = 0;
  #capacity = 0;
  #disposed = false;

  constructor(exports: XtsExports) {
    this.#x = exports;
  }

  encrypt(data: Uint8Array, firstSector: bigint, sectorSize: number): void {
    this.#run(data, firstSector, sectorSize, true);
  }

  decrypt(data: Uint8Array, firstSector: bigint, sectorSize: number): void {
    this.#run(data, firstSector, sectorSize, false);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#x.xts_clear_key();
    if (this.#capacity > 0) this.#x.xts_free(this.#ptr, this.#capacity);
    this.#capacity = 0;
  }

  /** A copy of the instance's whole linear memory: lets tests show no key or data stays behind. */
  linearMemoryForTests(): Uint8Array {
    return new Uint8Array(this.#x.memory.buffer).slice();
  }

  #run(data: Uint8Array, firstSector: bigint, sectorSize: number, encrypt: boolean): void {
    if (this.#disposed) throw new DiskError('INVALID_INPUT', 'the XTS cipher was disposed');
    if (![512, 1024, 2048, 4096].includes(sectorSize)) {
      throw new DiskError('INVALID_INPUT', `XTS sector size ${sectorSize} is not a power of two from 512 to 4096`);
    }
    if (data.length % sectorSize !== 0) {
      throw new DiskError('INVALID_INPUT', `buffer of ${data.length} bytes is not whole ${sectorSize}-byte sectors`);
    }
    const sectors = BigInt(data.length / sectorSize);
    if (typeof firstSector !== 'bigint' || firstSector < 0n || firstSector + sectors > 2n * U64_MAX + 1n) {
      throw new DiskError('INVALID_INPUT', `XTS tweak ${String(firstSector)} is out of range`);
    }
    if (data.length === 0) return;
    const chunk = Math.max(sectorSize, CHUNK_BYTES - (CHUNK_BYTES % sectorSize));
    this.#reserve(Math.min(chunk, data.length));
    const op = encrypt ? this.#x.xts_encrypt : this.#x.xts_decrypt;
    for (let off = 0; off < data.length; off += chunk) {
      const part = data.subarray(off, Math.min(off + chunk, data.length));
      const tweak = firstSector + BigInt(off / sectorSize);
      // The crate adds first + ivOffset as 128-bit numbers: split a tweak above 2^64 - 1.
      const first = tweak > U64_MAX ? U64_MAX : tweak;
      // A fresh view each time: the allocator may have grown (and so replaced) the memory buffer.
      const view = new Uint8Array(this.#x.memory.buffer, this.#ptr, part.length);
      view.set(part);
      const status = op(this.#ptr, part.length, first, tweak - first, sectorSize);
      if (status === STATUS_OK) part.set(view);
      view.fill(0);
      if (status !== STATUS_OK) throw new DiskError('INVALID_INPUT', `the XTS module refused the request (status ${status})`);
    }
  }

  #reserve(bytes: number): void {
    if (bytes <= this.#capacity) return;
    if (this.#capacity > 0) this.#x.xts_free(this.#ptr, this.#capacity);
    this.#ptr = this.#x.xts_alloc(bytes);
    this.#capacity = bytes;
  }
}
