/**
 * What the occupancy canvas shows, computed from the worker's map without touching the DOM: for
 * each bucket, the topmost layer holding any of it and how much of the bucket that layer holds
 * (cells are shaded by that fraction), plus the LBA range each bucket covers (the same bucket
 * arithmetic as core's occupancy.ts, so the tooltip names exactly the sectors the worker counted).
 */
import { bucketStart } from '../../core/layered/occupancy.ts';
import type { Occupancy } from '../../../workers/api.ts';

export interface Cell {
  /** Index of the topmost layer holding part of the bucket, or -1 when none does. */
  readonly top: number;
  /** Fraction of the bucket that layer holds (0..1). */
  readonly fraction: number;
}

export function cellsOf(o: Occupancy): Cell[] {
  const cells: Cell[] = [];
  for (let b = 0; b < o.buckets; b++) {
    let cell: Cell = { top: -1, fraction: 0 };
    for (const layer of o.layers) {
      const f = layer.map[b] ?? 0;
      if (f > 0) {
        cell = { top: layer.index, fraction: f };
        break;
      }
    }
    cells.push(cell);
  }
  return cells;
}

/** First LBA and sector count of bucket `b`. */
export function bucketRange(o: Pick<Occupancy, 'lba' | 'count' | 'buckets'>, b: number): { lba: number; count: number } {
  const start = bucketStart(b, o.buckets, o.count);
  return { lba: o.lba + start, count: bucketStart(b + 1, o.buckets, o.count) - start };
}

/** Per layer index, how many buckets it is the topmost holder of (-1: held by none). */
export function topCounts(cells: readonly Cell[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const c of cells) counts[c.top] = (counts[c.top] ?? 0) + 1;
  return counts;
}

/** Per layer index, the first LBA of the first bucket it tops: a sector to inspect in the hex view. */
export function firstTopLba(o: Pick<Occupancy, 'lba' | 'count' | 'buckets'>, cells: readonly Cell[]): Record<number, number> {
  const first: Record<number, number> = {};
  cells.forEach((c, b) => {
    if (c.top >= 0 && first[c.top] === undefined) first[c.top] = bucketRange(o, b).lba;
  });
  return first;
}

/** Sectors each layer holds in the shown range, from its map (exact up to float rounding). */
export function sectorsHeld(o: Occupancy): { index: number; name: string; sectors: number }[] {
  return o.layers.map((layer) => {
    let sectors = 0;
    for (let b = 0; b < o.buckets; b++) sectors += (layer.map[b] ?? 0) * bucketRange(o, b).count;
    return { index: layer.index, name: layer.name, sectors: Math.round(sectors) };
  });
}
