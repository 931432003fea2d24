/**
 * SharedArrayBuffer inside a worker of a page that is not cross-origin isolated.
 *
 * Without isolation the browser hides the `SharedArrayBuffer` global and refuses to post one to
 * another thread, but a shared WebAssembly.Memory still yields one for use inside the same
 * thread (Chromium and Firefox both allow this). The inline workload fallback needs exactly that:
 * the controller device and the guest run in the disk worker and only use Atomics among
 * themselves. `ensureSharedArrayBuffer` defines the global from that constructor when it is
 * missing, so core code that says `new SharedArrayBuffer(n)` (allocateControllerBuffers) works
 * unchanged. Buffers made this way can never leave the worker.
 *
 * Errors: DiskError('UNSUPPORTED') when the browser offers no shared memory at all.
 */
import { DiskError } from '../../src/core/disk/errors.ts';

export function ensureSharedArrayBuffer(): void {
  if (typeof globalThis.SharedArrayBuffer === 'function') return;
  try {
    const memory = new WebAssembly.Memory({ initial: 0, maximum: 0, shared: true });
    const ctor = memory.buffer.constructor as SharedArrayBufferConstructor;
    Object.defineProperty(globalThis, 'SharedArrayBuffer', { value: ctor, configurable: true, writable: true });
  } catch (e) {
    throw new DiskError('UNSUPPORTED', 'this browser offers no shared memory to a worker, so the emulated controller cannot run here', { cause: e });
  }
}
