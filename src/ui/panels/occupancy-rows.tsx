/**
 * One occupancy row per layer under the occupancy grid: for an image chain, one row per file,
 * showing which blocks that file holds across the shown range (the grid above shows only the
 * topmost holder). Each row is a thin canvas with one column per bucket, shaded by the fraction
 * of the bucket the layer holds, and is `data-testid="occupancy-row"` with the layer's index,
 * name, chain file and sectors held as data attributes.
 */
import { useEffect, useRef } from 'react';
import type { LayerSummary, Occupancy } from '../../../workers/api.ts';
import { formatBytes } from '../format.ts';
import { EMPTY_COLOR, layerColor } from './layer-colors.ts';

export function OccupancyRows({ occupancy, held, layers, sectorSize }: {
  occupancy: Occupancy;
  held: readonly { index: number; sectors: number }[];
  layers: readonly LayerSummary[];
  sectorSize: number;
}) {
  return (
    <ul className="occupancy-rows small" aria-label="Occupancy per layer">
      {occupancy.layers.map((l) => {
        const file = layers.find((s) => s.index === l.index)?.file;
        const sectors = held.find((h) => h.index === l.index)?.sectors ?? 0;
        return (
          <li key={l.index} data-testid="occupancy-row" data-layer-index={l.index} data-name={l.name} data-file={file} data-sectors={sectors}>
            <span className="row-label">
              <span className="swatch" style={{ background: layerColor(l.index) }} aria-hidden="true" /> {file ?? l.name}
            </span>
            <Strip map={l.map} buckets={occupancy.buckets} color={layerColor(l.index)} label={`${file ?? l.name}: ${formatBytes(sectors * sectorSize)} held`} />
            <span className="muted">{formatBytes(sectors * sectorSize)}</span>
          </li>
        );
      })}
    </ul>
  );
}

function Strip({ map, buckets, color, label }: { map: Float64Array; buckets: number; color: string; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    canvas.width = buckets;
    canvas.height = 1;
    ctx.fillStyle = EMPTY_COLOR;
    ctx.fillRect(0, 0, buckets, 1);
    ctx.fillStyle = color;
    for (let b = 0; b < buckets; b++) {
      const f = map[b] ?? 0;
      if (f <= 0) continue;
      ctx.globalAlpha = f >= 1 ? 1 : 0.3 + 0.6 * f;
      ctx.fillRect(b, 0, 1, 1);
    }
    ctx.globalAlpha = 1;
  }, [map, buckets, color]);
  // Decorative for assistive tech: the row says in text what the strip draws.
  return <canvas ref={ref} className="strip" aria-hidden="true" title={label} />;
}
