/**
 * The few globals the core may use: ones that exist identically in browsers, workers and Node.
 * Core compiles without the DOM and Node libs so that nothing else leaks in; each name here is a
 * deliberate exception, declared as narrowly as the core uses it.
 */
declare global {
  var performance: { now(): number };
  function setTimeout(callback: () => void, ms: number): unknown;
  function clearTimeout(handle: unknown): void;
  var crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
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
}
export {};
