/**
 * The stop word of a guest workload: one Int32 in a SharedArrayBuffer shared by the page, the
 * guest worker and (for the inline fallback) the disk worker.
 *
 * Why shared memory: a running guest worker is blocked in Atomics.wait between completions, so
 * a Comlink message asking it to stop would only be read after the job ended. The page instead
 * sets the word (`requestStop`); the guest's controller host reads it before every step and
 * reports the controller as shutting down, so the workload engine stops issuing, reaps what is in
 * flight and ends with `aborted` set. The guest notices within one completion or at most one
 * second (the engine's longest wait), whichever comes first.
 *
 * Tiny and free of worker code, so the page may import it (not only `import type`).
 */

/** Word 0: 0 = run, 1 = stop requested. */
export const STOP_WORDS = 1;

export function createStopBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(STOP_WORDS * 4);
}

export function requestStop(buffer: SharedArrayBuffer): void {
  const word = new Int32Array(buffer, 0, STOP_WORDS);
  Atomics.store(word, 0, 1);
  Atomics.notify(word, 0);
}

export function clearStop(buffer: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(buffer, 0, STOP_WORDS), 0, 0);
}

export function stopRequested(buffer: SharedArrayBuffer): boolean {
  return Atomics.load(new Int32Array(buffer, 0, STOP_WORDS), 0) !== 0;
}
