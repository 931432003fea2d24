/**
 * `openStructured*`: opens the image formats that need more than a flat file — dynamic and
 * differencing VHD, VHDX (read-only) and qcow2 (writable at the top of its chain) — over the `ImageFile` port, so
 * the CLI (node:fs) and the page (a dropped File) share one path. A chain (a differencing VHD and
 * its parents) comes back as one LayeredDisk whose layers are the chain's files, child first, so
 * the occupancy map shows which file holds which block.
 *
 * Parents are found through the caller's `resolveParent`, given the candidate names the child
 * records (relative first); without one, a child that needs a parent is refused with a message
 * naming the parent, never opened as if the parent were empty.
 *
 * Errors: CORRUPT_IMAGE (with field) and UNSUPPORTED from the format readers; INVALID_INPUT when a
 * parent is needed and no resolver was given.
 */
import type { Disk } from '../disk/disk.ts';
import { DiskError } from '../disk/errors.ts';
import type { ImageFile } from './image-file.ts';
import type { Layer } from '../layered/layer.ts';
import { openVhdDynamic } from './vhd/open-dynamic.ts';
import { openVhdx } from './vhdx/open.ts';
import { openQcow2 } from './qcow2/open.ts';
import type { Inflate } from '../ports/inflate.ts';

export interface StructuredOpenOptions {
  readonly readOnly: boolean;
  /** Opens a parent (backing) image given the names the child records for it, best first. */
  readonly resolveParent?: (candidates: string[]) => Promise<ImageFile>;
}

export interface StructuredImage {
  readonly disk: Disk;
  /** Human-readable notes that did not stop the open (a parent's changed time stamp, say). */
  readonly warnings: readonly string[];
  /** What it is, for info: 'dynamic' or 'differencing' for VHD. */
  readonly subformat: string;
  /** Files of the chain, child first (one entry for a stand-alone image). */
  readonly chain: readonly string[];
}

export async function openStructuredVhd(file: ImageFile, options: StructuredOpenOptions): Promise<StructuredImage> {
  const opened = await openVhdDynamic(file, { readOnly: options.readOnly, resolveParent: options.resolveParent });
  if (opened.kind === 'dynamic') return { disk: opened.disk, warnings: opened.warnings, subformat: 'dynamic', chain: [file.name] };
  if (opened.disk === undefined) {
    await opened.layer.close();
    throw new DiskError('INVALID_INPUT', `${file.name} is a differencing VHD: its parent (${opened.parentCandidates[0] ?? 'unnamed'}) must be opened with it`);
  }
  return { disk: opened.disk, warnings: opened.warnings, subformat: 'differencing', chain: opened.layers.map(fileNameOf) };
}

/** The file behind a chain layer: the format layers keep their ImageFile, a base disk inside its DiskLayer. */
function fileNameOf(layer: Layer): string {
  const l = layer as { image?: { file?: { name?: string } }; disk?: { image?: { file?: { name?: string } }; file?: { name?: string } } };
  return l.image?.file?.name ?? l.disk?.image?.file?.name ?? l.disk?.file?.name ?? layer.layerType;
}

/** VHDX, read-only; a differencing VHDX's parent is found from its locator's relative path, then its absolute paths. */
export async function openStructuredVhdx(file: ImageFile, options: StructuredOpenOptions): Promise<StructuredImage> {
  if (!options.readOnly) throw new DiskError('READ_ONLY', `${file.name}: VHDX images open read-only (writing VHDX is not supported yet)`);
  const resolveParent = options.resolveParent;
  const disk = await openVhdx(file, {
    readOnly: true,
    name: file.name,
    resolveParent: resolveParent && ((locator) => resolveParent(vhdxParentCandidates(locator.entries))),
  });
  return { disk, warnings: [], subformat: disk.diskType === 'layered' ? 'differencing' : 'dynamic', chain: [file.name] };
}

/** MS-VHDX parent locator keys, in the order a moved chain is most likely to resolve. */
function vhdxParentCandidates(entries: ReadonlyMap<string, string>): string[] {
  return ['relative_path', 'absolute_win32_path', 'volume_path']
    .map((key) => entries.get(key))
    .filter((v): v is string => v !== undefined && v !== '');
}

/**
 * qcow2 with its backing chain (qcow2, raw or VHD below); compressed clusters decode through the
 * platform's `inflate`. Writable (`readOnly: false`) at the top only: the file must be writable.
 */
export async function openStructuredQcow2(file: ImageFile, options: StructuredOpenOptions & { readonly inflate: Inflate }): Promise<StructuredImage> {
  if (!options.readOnly && !file.writable) throw new DiskError('READ_ONLY', `${file.name}: the file is open read-only, so the qcow2 image cannot be written`);
  const resolveParent = options.resolveParent;
  const chain = [file.name];
  const disk = await openQcow2(file, {
    inflate: options.inflate,
    writable: !options.readOnly,
    resolveBacking: async (name) => {
      if (!resolveParent) throw new DiskError('INVALID_INPUT', `${file.name} has a backing file (${name}) that must be opened with it`);
      const parent = await resolveParent([name]);
      chain.push(parent.name);
      return parent;
    },
  });
  return { disk, warnings: [], subformat: chain.length > 1 ? 'overlay' : 'standalone', chain };
}
