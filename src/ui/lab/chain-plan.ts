/**
 * Sorting dropped files into image chains, without the DOM: given each file's name and the parent
 * names it records (from the disk worker's `imageParents`), which files to open as stacks and
 * which to hand each of them as parent candidates.
 *
 * A file that another dropped file names as its parent (base name, case-insensitive, as the
 * resolver matches) is a parent, not a stack of its own; every other file is a top. A top that
 * names a parent gets every other dropped file as a candidate (the resolver takes only the ones
 * the chain names, in chain order: a grandparent dropped without the parent between is still
 * used once that parent is given); a stand-alone top gets none. If every file is someone's parent
 * (a loop), each is opened on its own so the format reader can report the loop.
 */
import { matchParent, parentBaseName } from '../../core/formats/open-source.ts';

export interface DroppedImage<F> {
  readonly file: F;
  readonly name: string;
  /** Names the file records for its parent, best first; [] for an image that needs none. */
  readonly parentCandidates: readonly string[];
}

export interface ChainOpen<F> {
  readonly top: DroppedImage<F>;
  readonly parents: readonly DroppedImage<F>[];
}

export function planChains<F>(dropped: readonly DroppedImage<F>[]): ChainOpen<F>[] {
  const names = dropped.map((d) => d.name);
  const isParent = dropped.map(() => false);
  for (const [i, d] of dropped.entries()) {
    if (d.parentCandidates.length === 0) continue;
    // A file never stands as its own parent.
    const j = matchParent(d.parentCandidates, names.map((n, k) => (k === i ? '' : n)));
    if (j >= 0) isParent[j] = true;
  }
  if (dropped.length > 0 && isParent.every(Boolean)) return dropped.map((top) => ({ top, parents: [] }));
  return dropped.filter((_, i) => !isParent[i]).map((top) => ({ top, parents: top.parentCandidates.length > 0 ? dropped.filter((d) => d !== top) : [] }));
}

/** True when `fileName` is the file a missing-parent prompt asks for (`wanted` as the child records it). */
export function isWantedParent(fileName: string, wanted: string): boolean {
  return parentBaseName(fileName).toLowerCase() === parentBaseName(wanted).toLowerCase();
}
