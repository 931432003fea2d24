/**
 * The few globals the core may use: ones that exist identically in browsers, workers and Node.
 * Core compiles without the DOM and Node libs so that nothing else leaks in; each name here is a
 * deliberate exception, declared as narrowly as the core uses it.
 */
declare global {
  var performance: { now(): number };
  function setTimeout(callback: () => void, ms: number): unknown;
  function clearTimeout(handle: unknown): void;
  var crypto: {
    getRandomValues<T extends Uint8Array>(array: T): T;
    /** WebCrypto, for the passphrase KDF (PBKDF2-SHA256) and the key check value of crypt headers. */
    readonly subtle: {
      importKey(format: 'raw', keyData: Uint8Array, algorithm: 'PBKDF2', extractable: false, usages: ['deriveBits']): Promise<unknown>;
      deriveBits(algorithm: { name: 'PBKDF2'; hash: 'SHA-256'; salt: Uint8Array; iterations: number }, baseKey: unknown, length: number): Promise<ArrayBuffer>;
      digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer>;
    };
  };
  /** Blob and File exist in browsers, workers and Node 18+; specs carry them, sources slice them. */
  interface Blob {
    readonly size: number;
    slice(start?: number, end?: number): Blob;
    arrayBuffer(): Promise<ArrayBuffer>;
  }
  class TextEncoder {
    encode(input: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean });
    decode(input?: Uint8Array): string;
  }
  /** WebAssembly, for the XTS-AES module (src/core/crypto/wasm-xts.ts): compile and instantiate only. */
  namespace WebAssembly {
    interface Module {
      readonly __wasmModule?: never;
    }
    interface Instance {
      readonly exports: Record<string, unknown>;
    }
    interface Memory {
      readonly buffer: ArrayBuffer;
    }
    function compile(bytes: Uint8Array): Promise<Module>;
    function instantiate(module: Module, imports?: Record<string, Record<string, unknown>>): Promise<Instance>;
  }
}
export {};
