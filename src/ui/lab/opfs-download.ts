/**
 * Saving an OPFS image to the user's disk without holding it in memory: with the File System
 * Access API (`showSaveFilePicker`) the OPFS file's stream is piped to the chosen file; elsewhere
 * the OPFS `File` (disk-backed, not read into memory) becomes an object URL for a download link.
 *
 * Errors: a missing file rejects with the browser's NotFoundError; the user closing the picker
 * resolves 'cancelled'.
 */

type SavePicker = (options: { suggestedName?: string }) => Promise<FileSystemFileHandle & { createWritable(): Promise<WritableStream<Uint8Array>> }>;

export async function opfsFile(path: string): Promise<File> {
  const parts = path.split('/').filter((p) => p !== '');
  const name = parts.pop() ?? '';
  let dir = await navigator.storage.getDirectory();
  for (const part of parts) dir = await dir.getDirectoryHandle(part);
  return (await dir.getFileHandle(name)).getFile();
}

export async function downloadOpfsFile(path: string, suggestedName: string): Promise<'saved' | 'downloaded' | 'cancelled'> {
  const file = await opfsFile(path);
  const picker = (globalThis as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  if (picker) {
    let handle;
    try {
      handle = await picker({ suggestedName });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return 'cancelled';
      throw e;
    }
    await file.stream().pipeTo(await handle.createWritable());
    return 'saved';
  }
  const url = URL.createObjectURL(file);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = suggestedName;
    a.click();
  } finally {
    // The download has taken its reference by the time the click handler returns.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return 'downloaded';
}
