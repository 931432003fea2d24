/**
 * Extents for `disklab map` from what each file of an image holds, shaped like qemu-img map:
 * for every guest range, the topmost file (depth 0 = the image itself) that has it, and whether
 * it holds data or a zero record. Ranges no file holds are `present: false, zero: true` at the
 * depth of the last file, as qemu reports an unallocated range of a backing chain. We do not
 * report `offset` (the host offset) for structured formats: the readers do not expose it yet.
 *
 * Works from presence runs (src/core/layered/layer.ts), so it costs a walk of each file's
 * metadata, never a read of its data.
 */
import type { PresenceRun } from '../core/layered/layer.ts';
import type { MapExtent } from './map.ts';

type PresenceOf = (lba: number, count: number) => Promise<PresenceRun[]>;

/** The per-file presence functions of an opened disk, top first, or undefined for a flat image. */
export function presenceSources(disk: unknown): PresenceOf[] | undefined {
  const d = disk as {
    layerInfo?: () => unknown[];
    presence?: (...args: number[]) => Promise<PresenceRun[]>;
    image?: { presence?: PresenceOf };
  };
  if (typeof d.layerInfo === 'function' && typeof d.presence === 'function') {
    const presence = d.presence.bind(disk);
    return d.layerInfo().map((_, i) => (lba: number, count: number) => presence(i, lba, count));
  }
  if (typeof d.image?.presence === 'function') return [d.image.presence.bind(d.image)];
  if (typeof d.presence === 'function' && d.presence.length === 2) return [d.presence.bind(disk) as PresenceOf];
  return undefined;
}

export async function structuredExtents(sources: readonly PresenceOf[], sectors: number, sectorSize: number): Promise<MapExtent[]> {
  const runs = await Promise.all(sources.map((p) => p(0, sectors)));
  const cursor = runs.map(() => 0);
  const out: MapExtent[] = [];
  const push = (lba: number, count: number, depth: number, state: 'data' | 'zero' | 'absent') => {
    const e: MapExtent = { start: lba * sectorSize, length: count * sectorSize, depth, present: state !== 'absent', zero: state !== 'data', data: state === 'data' };
    const last = out[out.length - 1];
    if (last && last.depth === e.depth && last.present === e.present && last.data === e.data && last.zero === e.zero && last.start + last.length === e.start) {
      out[out.length - 1] = { ...last, length: last.length + e.length };
    } else out.push(e);
  };
  let lba = 0;
  while (lba < sectors) {
    let top: { depth: number; state: 'data' | 'zero'; end: number } | undefined;
    let nextStart = sectors; // where the next run of any file above the answer begins
    for (let i = 0; i < runs.length && top === undefined; i++) {
      const list = runs[i]!;
      while (cursor[i]! < list.length && list[cursor[i]!]!.lba + list[cursor[i]!]!.count <= lba) cursor[i]!++;
      const run = list[cursor[i]!];
      if (run === undefined) continue;
      if (run.lba <= lba) top = { depth: i, state: run.state, end: Math.min(run.lba + run.count, nextStart) };
      else nextStart = Math.min(nextStart, run.lba);
    }
    if (top) {
      push(lba, top.end - lba, top.depth, top.state);
      lba = top.end;
    } else {
      push(lba, nextStart - lba, sources.length - 1, 'absent');
      lba = nextStart;
    }
  }
  return out;
}
