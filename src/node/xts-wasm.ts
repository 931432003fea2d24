/**
 * Node glue for the XTS-AES-256 wasm module: reads the committed crates/xts/prebuilt/xts.wasm
 * (built by `npm run build:wasm`) and compiles it once per process; src/core/crypto/wasm-xts.ts
 * does everything else. Errors: a missing or unreadable file rejects with the fs error, naming
 * the path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileXtsModule, createXtsCipher, type WasmXtsCipher } from '../core/crypto/wasm-xts.ts';

export const XTS_WASM_PATH = fileURLToPath(new URL('../../crates/xts/prebuilt/xts.wasm', import.meta.url));

let compiled: Promise<WebAssembly.Module> | undefined;

/** The compiled module, shared by every cipher in this process. */
export function nodeXtsModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(XTS_WASM_PATH).then((bytes) => compileXtsModule(new Uint8Array(bytes)));
  return compiled;
}

/** An aes-xts-plain64 SectorCipher for a 64-byte key. */
export async function nodeXtsCipher(key: Uint8Array): Promise<WasmXtsCipher> {
  return createXtsCipher(await nodeXtsModule(), key);
}
