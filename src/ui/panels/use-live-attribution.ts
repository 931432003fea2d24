/**
 * Live per-layer read attribution for the stack panel: read from the stack's shared attribution
 * buffer (StackInfo.attribution, src/core/layered/attribution-buffer.ts) every animation frame
 * while `live`, and once whenever the stack info changes. Returns undefined when there is no
 * buffer (no cross-origin isolation) or its layer count does not match the stack's layers, so the
 * caller falls back to the counts in StackInfo. React state changes only when a count changes.
 */
import { useEffect, useState } from 'react';
import { readAttribution } from '../../core/layered/attribution-buffer.ts';
import type { StackInfo } from '../../../workers/api.ts';

export interface LiveAttribution {
  readonly servedSectors: readonly number[];
  readonly zeroFilledSectors: number;
}

function same(a: LiveAttribution | undefined, b: LiveAttribution): boolean {
  return a !== undefined && a.zeroFilledSectors === b.zeroFilledSectors && a.servedSectors.length === b.servedSectors.length && a.servedSectors.every((n, i) => n === b.servedSectors[i]);
}

export function useLiveAttribution(stack: StackInfo | undefined, live: boolean): LiveAttribution | undefined {
  const [counts, setCounts] = useState<LiveAttribution | undefined>(undefined);
  const buffer = stack?.attribution;
  const layers = stack?.layers.length ?? 0;

  useEffect(() => {
    if (!buffer) {
      setCounts(undefined);
      return;
    }
    const sample = () => {
      const snap = readAttribution(buffer);
      // An inconsistent copy (writer busy every try) is skipped: the next frame reads again.
      if (!snap.consistent) return;
      const next = snap.servedSectors.length === layers ? { servedSectors: snap.servedSectors, zeroFilledSectors: snap.zeroFilledSectors } : undefined;
      setCounts((prev) => (next === undefined ? undefined : same(prev, next) ? prev : next));
    };
    sample();
    if (!live) return;
    let frame = requestAnimationFrame(function loop() {
      sample();
      frame = requestAnimationFrame(loop);
    });
    return () => cancelAnimationFrame(frame);
  }, [buffer, layers, live, stack]);

  return buffer ? counts : undefined;
}
