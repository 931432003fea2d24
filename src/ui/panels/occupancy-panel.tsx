/**
 * Occupancy map: the shown LBA range as a grid of cells, each coloured by the topmost layer holding
 * any of it (lighter when that layer holds only part of the cell), refreshed a few times a second
 * while a workload runs on this stack. Hover or arrow keys pick a cell and show its LBA range and
 * the layers holding it; click or Enter zooms into the picked cell's row; "Zoom out" goes back.
 *
 * Below the grid, one row per layer (occupancy-rows.tsx): for an image chain, which blocks each file holds.
 *
 * The data drawn is also on a hidden `<output data-testid="occupancy-data">` (range, buckets, how
 * many cells each layer tops, sectors held per layer), so tests check data rather than pixels.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { formatBytes, formatCount, formatInt } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { useWorkload } from '../workload/workload-context.tsx';
import { EMPTY_COLOR, layerColor } from './layer-colors.ts';
import { bucketRange, cellsOf, firstTopLba, sectorsHeld, topCounts, type Cell } from './occupancy-model.ts';
import { OccupancyRows } from './occupancy-rows.tsx';
import { UrlChunkMaps } from './url-cache-panel.tsx';
import { useOccupancy } from './use-occupancy.ts';

const COLS = 64;
const ROWS = 16;
const CELL_H = 12;

interface Range {
  readonly lba: number;
  readonly count: number;
}

export function OccupancyPanel() {
  const lab = useLab();
  const stack = lab.active;
  const { view } = useWorkload();
  const live = stack !== undefined && view.stackId === stack.id && (view.phase === 'running' || view.phase === 'stopping');
  const whole: Range = { lba: 0, count: stack?.sectorCount ?? 0 };
  const [zoom, setZoom] = useState<{ stackId: string | undefined; path: Range[] }>({ stackId: undefined, path: [] });
  const path = zoom.stackId === stack?.id ? zoom.path : [];
  const range = path[path.length - 1] ?? whole;
  const buckets = Math.max(1, Math.min(COLS * ROWS, range.count));
  const { occupancy, error, reads } = useOccupancy(stack?.id, range.lba, range.count, buckets, live);
  const current = occupancy && occupancy.lba === range.lba && occupancy.count === range.count ? occupancy : undefined;
  const cells = useMemo(() => (current ? cellsOf(current) : []), [current]);
  const [picked, setPicked] = useState<number | undefined>(undefined);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(COLS * 10);

  const hasStack = stack !== undefined;
  useEffect(() => {
    const wrap = canvasRef.current?.parentElement;
    if (!wrap) return;
    const observer = new ResizeObserver(([entry]) => entry && setWidth(Math.max(COLS * 4, Math.floor(entry.contentRect.width))));
    observer.observe(wrap);
    return () => observer.disconnect();
  }, [hasStack]);

  const cellW = Math.floor(width / COLS);
  const rows = Math.ceil(cells.length / COLS) || ROWS;
  useEffect(() => draw(canvasRef.current, cells, cellW, rows, picked), [cells, cellW, rows, picked]);

  const zoomInto = (b: number) => {
    if (!current) return;
    const row = Math.floor(b / COLS);
    const first = bucketRange(current, row * COLS);
    const last = bucketRange(current, Math.min(current.buckets, (row + 1) * COLS) - 1);
    const next = { lba: first.lba, count: last.lba + last.count - first.lba };
    if (next.count < 1 || next.count === range.count) return;
    setZoom({ stackId: stack?.id, path: [...path, next] });
    setPicked(undefined);
  };
  const zoomOut = () => {
    setZoom({ stackId: stack?.id, path: path.slice(0, -1) });
    setPicked(undefined);
  };
  const cellAt = (e: MouseEvent<HTMLCanvasElement>): number | undefined => {
    const rect = e.currentTarget.getBoundingClientRect();
    const b = Math.floor((e.clientY - rect.top) / CELL_H) * COLS + Math.floor((e.clientX - rect.left) / cellW);
    return b >= 0 && b < cells.length ? b : undefined;
  };
  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -COLS, ArrowDown: COLS };
    const move = moves[e.key];
    if (move !== undefined && cells.length > 0) {
      e.preventDefault();
      setPicked((p) => Math.min(cells.length - 1, Math.max(0, (p ?? 0) + (p === undefined ? 0 : move))));
    } else if (e.key === 'Enter' && picked !== undefined) {
      zoomInto(picked);
    } else if ((e.key === 'Escape' || e.key === 'Backspace') && path.length > 0) {
      zoomOut();
    }
  };

  const held = current ? sectorsHeld(current) : [];
  const tip = current && picked !== undefined ? bucketRange(current, picked) : undefined;
  const ss = stack?.sectorSize ?? 512;
  return (
    <section className="panel occupancy-panel" aria-labelledby="occupancy-title" data-testid="panel-occupancy">
      <div className="panel-head">
        <h2 id="occupancy-title">Occupancy</h2>
        <div className="row">
          {live && <span className="live-dot">live</span>}
          <span className="small muted" hidden={!stack}>
            LBA {formatInt(range.lba)}–{formatInt(range.lba + range.count - 1)} · {formatCount(range.count / buckets)} sectors/cell
          </span>
          <button type="button" onClick={zoomOut} disabled={path.length === 0}>
            Zoom out
          </button>
        </div>
      </div>
      {!stack ? (
        <p className="muted">No stack is open.</p>
      ) : (
        <>
          <div className="canvas-wrap" onMouseLeave={() => setPicked(undefined)}>
            <canvas
              ref={canvasRef}
              tabIndex={0}
              role="img"
              aria-label={`Occupancy map of ${stack.name}: ${cells.length} cells; arrows pick a cell, Enter zooms in, Escape zooms out`}
              aria-describedby="occupancy-tip"
              onMouseMove={(e) => setPicked(cellAt(e))}
              onClick={(e) => {
                const b = cellAt(e);
                if (b !== undefined) zoomInto(b);
              }}
              onKeyDown={onKey}
            />
          </div>
          <p id="occupancy-tip" className="tip small" role="status" data-testid="occupancy-tip">
            {tip && current
              ? `LBA ${tip.lba}–${tip.lba + tip.count - 1} (${formatBytes(tip.count * ss)}): ${describeCell(current.layers, picked!)}`
              : 'Hover or use the arrow keys to inspect a cell; click or Enter zooms into its row.'}
          </p>
          <ul className="legend small" aria-label="Layers">
            {held.map((l) => (
              <li key={l.index}>
                <span className="swatch" style={{ background: layerColor(l.index) }} aria-hidden="true" /> {l.name}: {formatBytes(l.sectors * ss)}
              </li>
            ))}
            <li>
              <span className="swatch" style={{ background: EMPTY_COLOR }} aria-hidden="true" /> no layer (reads zeroes)
            </li>
          </ul>
          {current && current.layers.length > 1 && <OccupancyRows occupancy={current} held={held} layers={stack.layers} sectorSize={ss} />}
          <UrlChunkMaps stack={stack} />
          {error && <p className="error small">Occupancy: {error}</p>}
          <output
            hidden
            data-testid="occupancy-data"
            data-lba={current?.lba}
            data-count={current?.count}
            data-buckets={current?.buckets}
            data-reads={reads}
            data-top-counts={JSON.stringify(topCounts(cells))}
            data-sectors-held={JSON.stringify(held)}
            data-first-top-lba={JSON.stringify(current ? firstTopLba(current, cells) : {})}
          />
        </>
      )}
    </section>
  );
}

function describeCell(layers: readonly { index: number; name: string; map: Float64Array }[], b: number): string {
  const parts = layers.filter((l) => (l.map[b] ?? 0) > 0).map((l) => `${l.name} ${Math.round((l.map[b] ?? 0) * 100)}%`);
  return parts.length > 0 ? parts.join(', ') : 'no layer holds it (reads zeroes)';
}

function draw(canvas: HTMLCanvasElement | null, cells: readonly Cell[], cellW: number, rows: number, picked: number | undefined): void {
  if (!canvas) return;
  const dpr = window.devicePixelRatio || 1;
  const w = cellW * COLS;
  const h = CELL_H * rows;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  cells.forEach((cell, b) => {
    const x = (b % COLS) * cellW;
    const y = Math.floor(b / COLS) * CELL_H;
    ctx.fillStyle = EMPTY_COLOR;
    ctx.fillRect(x, y, cellW - 1, CELL_H - 1);
    if (cell.top >= 0) {
      // A partly held cell is drawn lighter: its colour at an alpha that grows with the fraction.
      ctx.globalAlpha = cell.fraction >= 1 ? 1 : 0.3 + 0.6 * cell.fraction;
      ctx.fillStyle = layerColor(cell.top);
      ctx.fillRect(x, y, cellW - 1, CELL_H - 1);
      ctx.globalAlpha = 1;
    }
  });
  if (picked !== undefined) {
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = 2;
    ctx.strokeRect((picked % COLS) * cellW + 1, Math.floor(picked / COLS) * CELL_H + 1, cellW - 3, CELL_H - 3);
  }
}
