/// <reference types="vite/client" />
/**
 * Browser glue for the XTS-AES-256 wasm module: Vite emits crates/xts/prebuilt/xts.wasm as an
 * asset (`?url`), this module fetches and compiles it once per worker (streaming compilation, so
 * compiling overlaps the download), and src/core/crypto/wasm-xts.ts does everything else.
 * Errors: a failed fetch or compile rejects with a DiskError('IO') naming the URL; the next call
 * tries again.
 */
import wasmUrl from '../../crates/xts/prebuilt/xts.wasm?url';
import { DiskError } from '../../src/core/disk/errors.ts';
import { createXtsCipher, type WasmXtsCipher } from '../../src/core/crypto/wasm-xts.ts';

let compiled: Promise<WebAssembly.Module> | undefined;

/** The compiled module, shared by every crypt layer in this worker. */
export function browserXtsModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compileStreaming(fetch(wasmUrl)).catch((e: unknown) => {
    compiled = undefined;
    throw new DiskError('IO', `cannot load the XTS module from ${wasmUrl}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  return compiled;
}

/** An aes-xts-plain64 SectorCipher for a 64-byte key (a CipherFactory for src/core/crypto/open-crypt.ts). */
export async function browserXtsCipher(key: Uint8Array): Promise<WasmXtsCipher> {
  return createXtsCipher(await browserXtsModule(), key);
}
