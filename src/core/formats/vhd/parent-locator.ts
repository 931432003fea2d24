/**
 * Parent locators of a differencing VHD: where the child says its parent lives. Each of the
 * header's eight entries points at platform data elsewhere in the file:
 * - W2ru / W2ku: a Windows relative / absolute path in UTF-16LE (what Hyper-V writes);
 * - Wi2r / Wi2k: the deprecated ANSI forms, read here as Latin-1;
 * - MacX: a UTF-8 file URL ("file://localhost/Users/x/parent.vhd"), returned as its path;
 * - Mac : a Mac OS alias record, which we cannot interpret (skipped).
 *
 * `readParentCandidates` returns the decoded paths in the order a resolver should try them
 * (relative before absolute, so a moved chain still resolves), followed by the header's parent
 * unicode name (a bare file name, to try beside the child). Paths are returned as written:
 * resolving a relative one against the child's location is the caller's job (the core has no
 * file system). Errors: a locator whose data lies outside the file or is implausibly long is
 * `CORRUPT_IMAGE` naming the locator.
 */
import { DiskError } from '../../disk/errors.ts';
import type { ImageFile } from '../image-file.ts';
import { decodeUtf16, encodeUtf16, type VhdDynamicHeader, type VhdParentLocatorEntry } from './dynamic-header.ts';

/** A path longer than this is not a path: refuse rather than allocate. */
export const MAX_LOCATOR_BYTES = 64 * 1024;

const ORDER = ['W2ru', 'Wi2r', 'W2ku', 'Wi2k', 'MacX'] as const;

export interface ParentLocatorPath {
  readonly platformCode: string;
  readonly path: string;
}

export async function readParentLocators(file: ImageFile, header: VhdDynamicHeader): Promise<ParentLocatorPath[]> {
  const found: ParentLocatorPath[] = [];
  for (const [i, loc] of header.parentLocators.entries()) {
    if (!(ORDER as readonly string[]).includes(loc.platformCode) || loc.platformDataLength === 0) continue;
    const field = `parentLocator${i}`;
    if (loc.platformDataLength > MAX_LOCATOR_BYTES) {
      throw new DiskError('CORRUPT_IMAGE', `${file.name}: VHD parent locator ${i} (${loc.platformCode}) claims ${loc.platformDataLength} bytes of path`, { field });
    }
    const data = new Uint8Array(loc.platformDataLength);
    await file.read(loc.platformDataOffset, data, field);
    const path = decodeLocator(loc, data);
    if (path !== '') found.push({ platformCode: loc.platformCode, path });
  }
  return found.sort((a, b) => ORDER.indexOf(a.platformCode as never) - ORDER.indexOf(b.platformCode as never));
}

export function decodeLocator(loc: Pick<VhdParentLocatorEntry, 'platformCode'>, data: Uint8Array): string {
  switch (loc.platformCode) {
    case 'W2ru':
    case 'W2ku':
      return decodeUtf16(data, true);
    case 'Wi2r':
    case 'Wi2k':
      return String.fromCharCode(...data.subarray(0, data.includes(0) ? data.indexOf(0) : data.length));
    case 'MacX':
      return fileUrlToPath(new TextDecoder('utf-8', { fatal: false }).decode(data).replace(/\0.*$/s, ''));
    default:
      return '';
  }
}

function fileUrlToPath(url: string): string {
  const m = /^file:\/\/(?:localhost)?(\/.*)$/i.exec(url);
  if (m === null) return url;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

/** Every candidate the resolver should try, best first, without duplicates. */
export async function readParentCandidates(file: ImageFile, header: VhdDynamicHeader): Promise<string[]> {
  const paths = (await readParentLocators(file, header)).map((l) => l.path);
  if (header.parentUnicodeName !== '') paths.push(header.parentUnicodeName);
  return [...new Set(paths)];
}

export interface EncodedLocator {
  readonly platformCode: 'W2ru' | 'W2ku';
  readonly data: Uint8Array;
}

/**
 * Locators for a parent named `name` as the caller gave it: an absolute name (a drive letter, a
 * UNC or a leading slash) becomes W2ku, a relative one W2ru as ".\name" (Hyper-V's spelling);
 * separators become backslashes either way, since these are Windows platform codes.
 */
export function encodeParentLocators(name: string): EncodedLocator[] {
  const windows = name.replaceAll('/', '\\');
  const absolute = /^[A-Za-z]:\\/.test(windows) || windows.startsWith('\\');
  if (absolute) return [{ platformCode: 'W2ku', data: encodeUtf16(windows, true) }];
  const relative = windows.startsWith('.\\') || windows.startsWith('..\\') ? windows : `.\\${windows}`;
  return [{ platformCode: 'W2ru', data: encodeUtf16(relative, true) }];
}

/** The last path component, for the header's parent unicode name. */
export function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}
