/**
 * The image chain behind the active stack, child first: one entry per file of a differencing
 * VHD/VHDX or qcow2 backing chain (the layers whose `file` the worker reports), with its place in
 * the chain, the layer colour it has in the occupancy map and what it holds. Nothing for a stack
 * without a chain.
 */
import type { LayerSummary } from '../../../workers/api.ts';
import { formatBytes } from '../format.ts';
import { layerColor } from './layer-colors.ts';

export function ChainFiles({ layers }: { layers: readonly LayerSummary[] }) {
  const files = layers.filter((l): l is LayerSummary & { file: string } => l.file !== undefined);
  if (files.length === 0) return null;
  const part = (i: number) => (i === 0 ? 'child' : i === files.length - 1 ? 'base' : 'parent');
  return (
    <div className="chain-files">
      <h3 className="small-head">Image chain: {files.length} files, child first</h3>
      <ol className="small" aria-label="Chain files">
        {files.map((l, i) => (
          <li key={l.index} data-testid="chain-file" data-file={l.file} data-layer-index={l.index} data-part={part(i)}>
            <span className="swatch" style={{ background: layerColor(l.index) }} aria-hidden="true" /> <strong>{l.file}</strong>{' '}
            <span className="muted">
              {part(i)} · layer {l.index} · {formatBytes(l.bytesPresent)} held
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
