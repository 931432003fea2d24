/**
 * OPFS probe: a dedicated worker that proves this browser lets the disk worker keep its images in
 * the origin private file system. Sync access handles exist only in dedicated workers, so the
 * check has to run here, not on the page.
 *
 * It creates a uniquely named file, opens a `FileSystemSyncAccessHandle`, writes a pattern at a
 * non-zero offset, flushes, checks the size, reads the bytes back (and the zero gap before them),
 * truncates, closes, and removes the file. It posts exactly one `OpfsProbeResult` and never throws
 * past its own body: the first failing step is reported with the error's name and message. The
 * handle is closed and the file removed even when a step fails, so a failed probe leaves nothing
 * behind in the origin's storage.
 */
import type { OpfsProbeResult, OpfsProbeStep } from './opfs-probe-protocol.ts';

const GAP_BYTES = 512;
const PATTERN_BYTES = 4096;

class StepError extends Error {
  constructor(
    readonly step: OpfsProbeStep,
    message: string,
  ) {
    super(message);
    this.name = 'VerificationError';
  }
}

function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

async function probe(): Promise<OpfsProbeResult> {
  const started = performance.now();
  let step: OpfsProbeStep = 'get-directory';
  let directory: FileSystemDirectoryHandle | undefined;
  let handle: FileSystemSyncAccessHandle | undefined;
  const name = `disklab-opfs-probe-${crypto.randomUUID()}.bin`;
  try {
    directory = await navigator.storage.getDirectory();
    step = 'create-file';
    const file = await directory.getFileHandle(name, { create: true });
    step = 'open-sync-handle';
    handle = await file.createSyncAccessHandle();

    step = 'write';
    const data = pattern(PATTERN_BYTES);
    const written = handle.write(data, { at: GAP_BYTES });
    if (written !== data.length) throw new StepError(step, `wrote ${written} of ${data.length} bytes`);
    step = 'flush';
    handle.flush();
    step = 'size';
    const size = handle.getSize();
    if (size !== GAP_BYTES + PATTERN_BYTES) throw new StepError(step, `size is ${size}, expected ${GAP_BYTES + PATTERN_BYTES}`);

    step = 'read';
    const back = new Uint8Array(GAP_BYTES + PATTERN_BYTES);
    const read = handle.read(back, { at: 0 });
    if (read !== back.length) throw new StepError(step, `read ${read} of ${back.length} bytes`);
    step = 'verify';
    // The gap was never written: a file with holes must read as zeroes there, which FileDisk relies on.
    const gapIndex = back.subarray(0, GAP_BYTES).findIndex((b) => b !== 0);
    if (gapIndex !== -1) throw new StepError(step, `unwritten byte ${gapIndex} is not zero`);
    const mismatch = back.subarray(GAP_BYTES).findIndex((b, i) => b !== data[i]);
    if (mismatch !== -1) throw new StepError(step, `byte ${GAP_BYTES + mismatch} differs from what was written`);

    step = 'truncate';
    handle.truncate(GAP_BYTES);
    const truncated = handle.getSize();
    if (truncated !== GAP_BYTES) throw new StepError(step, `size after truncate is ${truncated}, expected ${GAP_BYTES}`);

    step = 'close';
    handle.close();
    handle = undefined;
    step = 'remove';
    await directory.removeEntry(name);
    directory = undefined;
    return { ok: true, bytesVerified: GAP_BYTES + PATTERN_BYTES, elapsedMs: performance.now() - started };
  } catch (error) {
    const errorName = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, step, errorName, message };
  } finally {
    // Best effort: the probe's verdict is already decided; cleanup failures must not replace it.
    try {
      handle?.close();
    } catch {
      /* already closed or never opened */
    }
    try {
      await directory?.removeEntry(name);
    } catch {
      /* never created, or already removed */
    }
  }
}

void probe().then((result) => postMessage(result));
