/**
 * Opening an image over a `RangeSource` (a user's File, a Blob, an HTTP object): detect its
 * format and return a read-only BlobDisk exposing exactly the image's sectors.
 *
 * - raw: the whole source, a partial last sector included (as `openRaw` does for files).
 * - fixed VHD: the sectors before the footer; the footer is validated and never readable.
 * - dynamic and differencing VHD and VHDX: through their readers (open-structured.ts), read-only;
 *   a differencing image needs `resolveParent`.
 * - qcow2: through its reader, read-only, given the platform's `inflate`; an overlay needs
 *   `resolveParent` for its backing file.
 *
 * Detection and validation are the file-based code's, not a second copy: the source's first and
 * last 512 bytes are fetched once (two range reads, whatever the image's size) and presented to
 * `detectFormat` and `openVhd` as a SyncFile that holds only those two windows. Those functions
 * read nothing else; if they ever did, the window file says so with an IO error rather than
 * inventing bytes.
 *
 * Chains: `chain` lists the files of the opened image, child first, in the order `resolveParent`
 * returned them. For a page that holds dropped files rather than paths, `parentBaseName` and
 * `matchParent` find a parent among named files by the base name of the candidates the child
 * records (relative first; case-insensitive; '/' and '\' both separate), and `probeParents`
 * reads which parent an image names without opening any parent.
 *
 * Errors: CORRUPT_IMAGE (with `field`) for a damaged VHD footer or a size that disagrees with it;
 * UNSUPPORTED as above; the source's own errors (NETWORK, IO) pass through.
 */
import { BlobDisk } from '../backends/blob-disk.ts';
import { DiskError, asDiskError } from '../disk/errors.ts';
import type { RangeSource } from '../ports/range-source.ts';
import type { SyncFile } from '../ports/sync-file.ts';
import { detectFormat, type Detection, type ImageFormat } from './detect.ts';
import { VHD_FOOTER_SIZE } from './vhd/footer.ts';
import type { VhdFooter } from './vhd/footer.ts';
import { openVhd, vhdSubformat } from './vhd/open.ts';
import type { Disk } from '../disk/disk.ts';
import { imageFileFromRange, type ImageFile } from './image-file.ts';
import { openStructuredQcow2, openStructuredVhd, openStructuredVhdx } from './open-structured.ts';
import type { Inflate } from '../ports/inflate.ts';

export interface OpenSourceOptions {
  /** Open as this format; default: detect by content. */
  readonly format?: ImageFormat;
  /** Finds a differencing image's parent from the names it records; without it such images are refused. */
  readonly resolveParent?: (candidates: string[]) => Promise<ImageFile>;
  /** Raw-deflate decoding for qcow2's compressed clusters; qcow2 is refused without it. */
  readonly inflate?: Inflate;
}

export interface OpenedSource {
  /** A BlobDisk for raw and fixed VHD; the format's reader for dynamic/differencing VHD and VHDX. */
  readonly disk: Disk;
  readonly format: 'raw' | 'vhd' | 'vhdx' | 'qcow2';
  /** 'fixed', 'dynamic' or 'differencing' for VHD and VHDX; undefined for raw. */
  readonly subformat: string | undefined;
  /** How the format was found; undefined when the caller named it. */
  readonly detection: Detection | undefined;
  /** The validated footer of a VHD. */
  readonly vhdFooter: VhdFooter | undefined;
  /** The chain's file names, child first: `[source.name]` for an image that needs no parent. */
  readonly chain: readonly string[];
}

/** The last path component of a name a child records ("..\\VMs\\Base.VHD" -> "Base.VHD"). */
export function parentBaseName(candidate: string): string {
  const parts = candidate.split(/[\\/]/);
  return parts[parts.length - 1] ?? candidate;
}

/**
 * Which of `names` is the parent, given the child's candidates (best first): the first candidate
 * whose base name equals a name's base name, ignoring case. -1 when none matches.
 */
export function matchParent(candidates: readonly string[], names: readonly string[]): number {
  const wanted = names.map((n) => parentBaseName(n).toLowerCase());
  for (const c of candidates) {
    const base = parentBaseName(c).toLowerCase();
    if (base === '') continue;
    const i = wanted.indexOf(base);
    if (i >= 0) return i;
  }
  return -1;
}

/** What `probeParents` found: the format, and the parent names the image records (best first; [] for none). */
export interface ParentProbe {
  readonly format: 'raw' | 'vhd' | 'vhdx' | 'qcow2';
  readonly parentCandidates: readonly string[];
}

/** Thrown through the format readers to stop at the first parent request (never escapes `probeParents`). */
class ProbeStop extends Error {
  constructor(readonly candidates: string[]) {
    super('probe stop');
  }
}

/**
 * Reads which parent the image in `source` names, opening nothing but the image itself; the
 * source is closed before returning. Errors are openSource's for the image's own metadata.
 */
export async function probeParents(source: RangeSource, options: Omit<OpenSourceOptions, 'resolveParent'> = {}): Promise<ParentProbe> {
  try {
    const format = options.format ?? (await detectSourceFormat(source)).format;
    try {
      const opened = await openSource(source, { ...options, format, resolveParent: (candidates) => Promise.reject(new ProbeStop(candidates)) });
      await opened.disk.close().catch(() => undefined);
      return { format, parentCandidates: [] };
    } catch (e) {
      if (e instanceof ProbeStop) return { format, parentCandidates: e.candidates };
      throw e;
    }
  } finally {
    await source.close().catch(() => undefined);
  }
}

/** Detects the format of the image in `source` by content. */
export async function detectSourceFormat(source: RangeSource): Promise<Detection> {
  return detectFormat(await windowFile(source), source.name);
}

export async function openSource(source: RangeSource, options: OpenSourceOptions = {}): Promise<OpenedSource> {
  const chain = [source.name];
  const resolve = options.resolveParent;
  const resolveParent = resolve && (async (candidates: string[]) => {
    const parent = await resolve(candidates);
    chain.push(parent.name);
    return parent;
  });
  const opened = await openSourceOnly(source, { ...options, resolveParent });
  return { ...opened, chain };
}

async function openSourceOnly(source: RangeSource, options: OpenSourceOptions): Promise<Omit<OpenedSource, 'chain'>> {
  const name = source.name;
  const file = await windowFile(source);
  const detection = options.format === undefined ? detectFormat(file, name) : undefined;
  const format = options.format ?? detection!.format;
  switch (format) {
    case 'raw':
      return { disk: new BlobDisk(source, { diskType: 'raw' }), format, detection, vhdFooter: undefined, subformat: undefined };
    case 'vhd': {
      if (vhdSubformat(file, name) !== 'fixed') {
        const opened = await openStructuredVhd(imageFileFromRange(source), { readOnly: true, resolveParent: options.resolveParent });
        return { disk: opened.disk, format, detection, vhdFooter: undefined, subformat: opened.subformat };
      }
      const footer = vhdFooterOf(file, name);
      const disk = new BlobDisk(source, { sectors: footer.currentSize / 512, diskType: 'vhd-fixed', diskId: footer.uniqueId });
      return { disk, format, detection, vhdFooter: footer, subformat: 'fixed' };
    }
    case 'vhdx': {
      const opened = await openStructuredVhdx(imageFileFromRange(source), { readOnly: true, resolveParent: options.resolveParent });
      return { disk: opened.disk, format, detection, vhdFooter: undefined, subformat: opened.subformat };
    }
    case 'qcow2': {
      if (!options.inflate) throw new DiskError('UNSUPPORTED', `${name} is a qcow2 image, and this platform gave the lab no deflate decoder to read it with`);
      const opened = await openStructuredQcow2(imageFileFromRange(source), { readOnly: true, resolveParent: options.resolveParent, inflate: options.inflate });
      return { disk: opened.disk, format, detection, vhdFooter: undefined, subformat: opened.subformat };
    }
  }
}

/** `openVhd`'s validation (footer fields, disk type, file size) over the window file; only the footer is kept. */
function vhdFooterOf(file: SyncFile, name: string): VhdFooter {
  try {
    return openVhd(file, { readOnly: true, name }).footer;
  } catch (e) {
    if (e instanceof DiskError && e.code === 'UNSUPPORTED') {
      throw new DiskError('UNSUPPORTED', `${e.message}; convert it to a fixed VHD (qemu-img convert -O vpc -o subformat=fixed) or a raw image`, { cause: e });
    }
    throw e;
  }
}

/** The source's first and last 512 bytes as a read-only SyncFile of the source's size. */
async function windowFile(source: RangeSource): Promise<SyncFile> {
  const size = source.size;
  const headLength = Math.min(VHD_FOOTER_SIZE, size);
  const tailStart = Math.max(0, size - VHD_FOOTER_SIZE);
  let head: Uint8Array;
  let tail: Uint8Array;
  try {
    head = await source.read(0, headLength);
    tail = tailStart < headLength ? head.subarray(tailStart) : await source.read(tailStart, size - tailStart);
  } catch (e) {
    throw asDiskError(e, `${source.name}: reading the image's first and last sectors`);
  }
  const refuse = (what: string): never => {
    throw new DiskError('IO', `${source.name}: ${what} (only the first and last ${VHD_FOOTER_SIZE} bytes were fetched for detection)`);
  };
  return {
    size: () => size,
    read(offset, into) {
      into.fill(0);
      const end = Math.min(offset + into.length, size);
      for (let at = offset; at < end; ) {
        if (at < headLength) {
          const n = Math.min(end, headLength) - at;
          into.set(head.subarray(at, at + n), at - offset);
          at += n;
        } else if (at >= tailStart) {
          into.set(tail.subarray(at - tailStart, end - tailStart), at - offset);
          at = end;
        } else {
          refuse(`byte ${at} was needed`);
        }
      }
    },
    write: () => refuse('write to a detection window'),
    truncate: () => refuse('truncate of a detection window'),
    flush() {},
    close() {},
  };
}
