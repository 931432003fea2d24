/**
 * memorySpecPlatform: the one in-memory `SpecPlatform` (resolve-spec.ts) for tests that resolve
 * specs without OPFS: files are MemorySyncFiles (memory-sync-file.ts), Blobs are read by slicing.
 *
 * Promises:
 * - `openFile(path)` opens `files` (a map of paths, or a function of the path) in place, so
 *   writes show through to the caller's arrays; a path in `locked` rejects with
 *   `DiskError('LOCKED')` as a second tab's handle would; an unknown path rejects with
 *   `DiskError('IO')`. Every call that succeeds is recorded in `opened` (path, readOnly, file).
 * - `openLayerFiles(name)` exists only with a `layerStore`: it opens `<name>.data` and
 *   `<name>.meta` in that store, so a later platform on the same store ("after a reload") sees
 *   the same bytes.
 * - `blobSource` reads the Blob lazily by slices and records each source in `sources`, with
 *   `closed` set once the source is closed.
 * - Every MemorySyncFile it makes is passed to `onFile` and listed in `files`, in order, so a test
 *   can check that the code under test closed what it opened.
 * - `extra` (a cipher, an http platform, a clock ...) is spread over the result as given.
 */
import { DiskError } from '../disk/errors.ts';
import type { RangeSource } from '../ports/range-source.ts';
import type { SpecPlatform } from '../resolve-spec.ts';
import { MemorySyncFile } from './memory-sync-file.ts';

export interface MemorySpecPlatformOptions {
  /** OPFS images by path; absent = every `openFile` rejects with IO. */
  readonly files?: Readonly<Record<string, Uint8Array>> | ((path: string) => Uint8Array | undefined);
  /** Paths whose `openFile` rejects with LOCKED. */
  readonly locked?: readonly string[];
  /** Where persistent layers keep their files; absent = no `openLayerFiles`. */
  readonly layerStore?: Map<string, Uint8Array>;
  /** Called with every file made, as it is made. */
  readonly onFile?: (file: MemorySyncFile) => void;
  /** Other SpecPlatform members, spread over the result. */
  readonly extra?: Omit<Partial<SpecPlatform>, 'openFile' | 'openLayerFiles'>;
}

export interface OpenedMemoryFile {
  readonly path: string;
  readonly readOnly: boolean;
  readonly file: MemorySyncFile;
}

export interface MemorySpecPlatform {
  readonly platform: SpecPlatform;
  /** Each successful `openFile`, in order. */
  readonly opened: OpenedMemoryFile[];
  /** Each Blob source made, with whether it was closed. */
  readonly sources: Array<{ name: string; closed: boolean }>;
  /** Every file made (by `openFile` and `openLayerFiles`), in order. */
  readonly files: MemorySyncFile[];
}

export function memorySpecPlatform(options: MemorySpecPlatformOptions = {}): MemorySpecPlatform {
  const { files: images, locked = [], layerStore, onFile, extra } = options;
  const opened: OpenedMemoryFile[] = [];
  const sources: Array<{ name: string; closed: boolean }> = [];
  const files: MemorySyncFile[] = [];
  const made = (file: MemorySyncFile): MemorySyncFile => {
    files.push(file);
    onFile?.(file);
    return file;
  };
  const imageAt = (path: string): Uint8Array | undefined =>
    typeof images === 'function' ? images(path) : images && Object.hasOwn(images, path) ? images[path] : undefined;

  const platform: SpecPlatform = {
    async openFile(path, { readOnly }) {
      if (locked.includes(path)) throw new DiskError('LOCKED', `${path} is open elsewhere`);
      const bytes = imageAt(path);
      if (!bytes) throw new DiskError('IO', `no such image ${path}`);
      const file = made(new MemorySyncFile({ bytes }));
      opened.push({ path, readOnly, file });
      return file;
    },
    blobSource(blob, name): RangeSource {
      const record = { name, closed: false };
      sources.push(record);
      return {
        size: blob.size,
        identity: undefined,
        name,
        read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
        close: async () => void (record.closed = true),
      };
    },
    ...(layerStore && {
      openLayerFiles: async (name: string) => ({
        data: made(new MemorySyncFile({ store: layerStore, key: `${name}.data` })),
        meta: made(new MemorySyncFile({ store: layerStore, key: `${name}.meta` })),
      }),
    }),
    ...extra,
  };
  return { platform, opened, sources, files };
}
