/**
 * The baseline for the in-browser job benchmarks (bench/browser-jobs.ts): a bare copy from one
 * OPFS file to another with two FileSystemSyncAccessHandles in 1 MiB pieces, then a flush, with
 * no Disk Lab code in the path. Message in: { src, dst } (paths under the OPFS root); out:
 * { bytes, ms } or { error }.
 */
const MiB = 1024 * 1024;

async function handleFor(path: string, create: boolean): Promise<FileSystemSyncAccessHandle> {
  const parts = path.split('/');
  const name = parts.pop()!;
  let dir = await navigator.storage.getDirectory();
  for (const p of parts) dir = await dir.getDirectoryHandle(p, { create });
  return (await dir.getFileHandle(name, { create })).createSyncAccessHandle();
}

self.onmessage = async (e: MessageEvent<{ src: string; dst: string }>) => {
  try {
    const src = await handleFor(e.data.src, false);
    const dst = await handleFor(e.data.dst, true);
    const size = src.getSize();
    const buf = new Uint8Array(MiB);
    const started = performance.now();
    for (let at = 0; at < size; at += MiB) {
      const n = src.read(buf.subarray(0, Math.min(MiB, size - at)), { at });
      dst.write(buf.subarray(0, n), { at });
    }
    dst.flush();
    const ms = performance.now() - started;
    src.close();
    dst.close();
    self.postMessage({ bytes: size, ms });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
