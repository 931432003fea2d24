/**
 * Reading a VHD chain with libvhdi's Python binding (pyvhdi), the independent VHD reader of the
 * oracle tests. Find the interpreter with libvhdi-tools.ts `libvhdiProbe`.
 *
 * `pyvhdiReadChain(python, out, chain)` opens `chain` (child first, as on a command line)
 * bottom-up, so each `set_parent` checks the child's recorded parent id, writes the child's whole
 * media (read in 1 MiB pieces; a short read fails) to the file `out`, and returns each file's
 * metadata, child first, and those bytes; `out` is removed afterwards. A failure in Python
 * (a refused parent, a corrupt image) throws execFileSync's error, with Python's stderr.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface PyvhdiFileInfo {
  readonly mediaSize: number;
  /** libvhdi's LIBVHDI_DISK_TYPE_*: 2 fixed, 3 dynamic, 4 differential. */
  readonly diskType: number;
  readonly bytesPerSector: number;
  readonly identifier: string;
  readonly parentIdentifier: string | null;
  readonly parentFilename: string | null;
}

const READER = `
import json, sys, pyvhdi
out, chain = sys.argv[1], sys.argv[2:]
files, parent = [], None
for p in reversed(chain):
    f = pyvhdi.file()
    f.open(p)
    if parent is not None:
        f.set_parent(parent)
    files.append(f)  # kept alive: set_parent does not hold a reference to the parent object
    parent = f
top = files[-1]
size = top.get_media_size()
with open(out, 'wb') as w:
    off = 0
    while off < size:
        n = min(1 << 20, size - off)
        data = top.read_buffer_at_offset(n, off)
        if len(data) != n:
            raise SystemExit(f'short read at {off}: {len(data)} of {n}')
        w.write(data)
        off += n
print(json.dumps([{
    'mediaSize': f.get_media_size(), 'diskType': f.get_disk_type(), 'bytesPerSector': f.get_bytes_per_sector(),
    'identifier': f.get_identifier(), 'parentIdentifier': f.get_parent_identifier(), 'parentFilename': f.get_parent_filename(),
} for f in reversed(files)]))
`;

export function pyvhdiReadChain(python: string, out: string, chain: readonly string[]): { info: PyvhdiFileInfo[]; bytes: Uint8Array } {
  const json = execFileSync(python, ['-c', READER, out, ...chain], { encoding: 'utf8' });
  const bytes = new Uint8Array(fs.readFileSync(out));
  fs.rmSync(out);
  return { info: JSON.parse(json) as PyvhdiFileInfo[], bytes };
}
