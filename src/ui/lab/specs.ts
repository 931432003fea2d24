/**
 * The DiskSpecs the page builds when it opens something. A user's file (or the built-in sample) is
 * never written: it is the read-only bottom layer of a layered disk with an empty RAM layer on top,
 * so every write lands in memory and the file stays as it was.
 */
import type { DiskSpec, ParentFileSpec } from '../../core/spec.ts';

export const SAMPLE_URL = '/sample.vhd';
export const SAMPLE_NAME = 'sample.vhd';

/**
 * A read-only Blob under a RAM diff layer. With `parents` (an image chain's other files), the
 * resolver finds the chain's parents among them and each chain file becomes a layer of its own.
 */
export function blobUnderRamDiff(blob: Blob, name: string, parents: readonly ParentFileSpec[] = []): DiskSpec {
  const disk: DiskSpec = parents.length > 0 ? { kind: 'blob', blob, name, parents } : { kind: 'blob', blob, name };
  return { kind: 'layered', layers: [{ kind: 'ram-layer' }, { kind: 'disk-layer', disk }] };
}

/** An OPFS image, writable, opened directly. */
export function opfsImage(path: string): DiskSpec {
  return { kind: 'opfs', path };
}

/** An empty RAM disk of at least `bytes` (rounded up to whole sectors). */
export function ramDisk(bytes: number, sectorSize = 512): DiskSpec {
  return { kind: 'ram', sectors: Math.max(1, Math.ceil(bytes / sectorSize)), sectorSize };
}

export async function fetchSample(signal?: AbortSignal): Promise<Blob> {
  const response = await fetch(SAMPLE_URL, signal ? { signal } : {});
  if (!response.ok) throw new Error(`could not fetch the sample image ${SAMPLE_URL}: HTTP ${response.status}`);
  // A dev server answers an unknown path with the app's index.html: that is not a disk image.
  if ((response.headers.get('content-type') ?? '').startsWith('text/html')) throw new Error(`the sample image ${SAMPLE_URL} is missing from public/`);
  return response.blob();
}
