/**
 * Stack panel: the active stack as a tree (backend, format, layers, decorators), top first, with
 * size, sector size, read-only and, for layers, bytes present and sectors served; and controls to
 * add a RAM diff, a delay, a fault or an encryption overlay (crypt-form.tsx) on the live stack, or remove one. Sectors served come
 * from the shared attribution buffer each animation frame during a workload (use-live-attribution.ts),
 * else from the stack info.
 *
 * An image chain's files are listed child first (chain-files.tsx), each a layer of its own.
 * Each node is `data-testid="stack-node"` with `data-role` and `data-label`, so tests read the tree
 * as data. Worker failures go to the lab's status bar.
 */
import { useEffect, useState } from 'react';
import type { DiskErrorCode } from '../../core/disk/errors.ts';
import type { FaultRuleData } from '../../core/spec.ts';
import type { OverlaySpec, StackNode } from '../../../workers/api.ts';
import { formatBytes, formatCount, formatInt } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { useWorkload } from '../workload/workload-context.tsx';
import { ChainFiles } from './chain-files.tsx';
import { UrlCacheStats } from './url-cache-panel.tsx';
import { PersistentDiffButton } from './persistent-diff-button.tsx';
import { CryptForm } from './crypt-form.tsx';
import { layerColor } from './layer-colors.ts';
import { useLiveAttribution } from './use-live-attribution.ts';

const FAULT_CODES: readonly DiskErrorCode[] = ['IO', 'MEDIUM_ERROR', 'ABORTED', 'NETWORK'];
/** Bytes present (and, without shared memory, sectors served) come from stackInfo: re-read it this often during a workload. */
const LIVE_INFO_MS = 500;

export function StackPanel() {
  const lab = useLab();
  const stack = lab.active;
  const { view } = useWorkload();
  const live = stack !== undefined && view.stackId === stack.id && (view.phase === 'running' || view.phase === 'stopping');
  const { client, update } = lab;
  const stackId = stack?.id;
  const counts = useLiveAttribution(stack, live);

  useEffect(() => {
    if (!live || stackId === undefined) return;
    const timer = setInterval(() => {
      // A missed poll is simply retried on the next tick; the run itself reports real failures.
      client.disk.stackInfo(stackId).then((info) => update(info, false), () => undefined);
    }, LIVE_INFO_MS);
    return () => clearInterval(timer);
  }, [live, stackId, client, update]);

  return (
    <section className="panel stack-panel" aria-labelledby="stack-title" data-testid="panel-stack">
      <div className="panel-head">
        <h2 id="stack-title">Stack</h2>
        {stack && <span className="muted small">{stack.name}</span>}
      </div>
      {!stack ? (
        <p className="muted">No stack is open.</p>
      ) : (
        <>
          <p className="small">
            {formatBytes(stack.sectorCount * stack.sectorSize)} · {formatInt(stack.sectorCount)} sectors of {stack.sectorSize} B
            {stack.readOnly ? ' · read-only' : ' · writable'}
          </p>
          <ul className="tree" aria-label="Stack tree">
            <TreeNode node={stack.tree} onRemove={(id) => void lab.run('Removing the overlay', () => lab.client.disk.removeOverlay(stack.id, id)).then((i) => i && lab.update(i))} />
          </ul>
          {stack.layers.length > 0 && (
            <table className="layers small" aria-label="Layers" data-served-source={counts ? 'shared' : 'info'}>
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col">Bytes present</th>
                  <th scope="col">Sectors served</th>
                </tr>
              </thead>
              <tbody>
                {stack.layers.map((l) => (
                  <tr key={l.index} data-testid="layer-row" data-layer={l.name} data-file={l.file} data-bytes-present={l.bytesPresent}>
                    <td>
                      <span className="swatch" style={{ background: layerColor(l.index) }} aria-hidden="true" /> {l.index}: {l.name}
                    </td>
                    <td>{formatBytes(l.bytesPresent)}</td>
                    <td data-testid="layer-served" data-served={counts?.servedSectors[l.index] ?? l.servedSectors}>
                      {formatCount(counts?.servedSectors[l.index] ?? l.servedSectors)}
                    </td>
                  </tr>
                ))}
                <tr>
                  <td>zero-filled (no layer)</td>
                  <td />
                  <td data-testid="zero-filled" data-served={counts?.zeroFilledSectors ?? stack.zeroFilledSectors}>
                    {formatCount(counts?.zeroFilledSectors ?? stack.zeroFilledSectors)}
                  </td>
                </tr>
              </tbody>
            </table>
          )}
          <ChainFiles layers={stack.layers} />
          <UrlCacheStats stack={stack} />
          <OverlayForm stackId={stack.id} />
          <CryptForm stackId={stack.id} readOnly={stack.readOnly} />
        </>
      )}
    </section>
  );
}

function TreeNode({ node, onRemove }: { node: StackNode; onRemove: (id: string) => void }) {
  return (
    <li data-testid="stack-node" data-role={node.role} data-label={node.label} data-node-id={node.id} data-file={node.file}>
      <div className="node">
        <span className={`role role-${node.role}`}>{node.role}</span>{' '}
        {node.layerIndex !== undefined && <span className="swatch" style={{ background: layerColor(node.layerIndex) }} aria-hidden="true" />}
        <strong>{node.label}</strong> <span className="muted">{node.diskType}</span>
        <span className="facts small">
          {formatBytes(node.sizeBytes)} · {node.sectorSize} B{node.readOnly ? ' · RO' : ''}
          {node.bytesPresent !== undefined && ` · ${formatBytes(node.bytesPresent)} present`}
        </span>
        {node.removable && (
          <button type="button" className="link" onClick={() => onRemove(node.id)} aria-label={`Remove ${node.label}`}>
            Remove
          </button>
        )}
      </div>
      {node.children.length > 0 && (
        <ul>
          {node.children.map((child) => (
            <TreeNode key={child.id} node={child} onRemove={onRemove} />
          ))}
        </ul>
      )}
    </li>
  );
}

function OverlayForm({ stackId }: { stackId: string }) {
  const lab = useLab();
  const [readUs, setReadUs] = useState(200);
  const [writeUs, setWriteUs] = useState(500);
  const [faultOp, setFaultOp] = useState<'read' | 'write'>('read');
  const [faultLba, setFaultLba] = useState(0);
  const [faultCount, setFaultCount] = useState(8);
  const [faultCode, setFaultCode] = useState<DiskErrorCode>('MEDIUM_ERROR');

  const add = (overlay: OverlaySpec, what: string) =>
    void lab.run(`Adding ${what}`, () => lab.client.disk.addOverlay(stackId, overlay)).then((info) => info && lab.update(info));
  const rule: FaultRuleData = { op: faultOp, sectors: { lba: faultLba, count: faultCount }, code: faultCode };

  return (
    <fieldset className="overlays">
      <legend>Add on top</legend>
      <div className="row">
        <button type="button" onClick={() => add({ kind: 'ram-diff' }, 'a RAM diff')}>
          Add RAM diff
        </button>
        {lab.active && <PersistentDiffButton stack={lab.active} />}
      </div>
      <div className="row">
        <label>
          read µs <input type="number" min={0} value={readUs} onChange={(e) => setReadUs(Number(e.target.value))} className="num" />
        </label>
        <label>
          write µs <input type="number" min={0} value={writeUs} onChange={(e) => setWriteUs(Number(e.target.value))} className="num" />
        </label>
        <button type="button" onClick={() => add({ kind: 'delay', readUs, writeUs }, 'a delay')}>
          Add delay
        </button>
      </div>
      <div className="row">
        <label>
          fail{' '}
          <select value={faultOp} onChange={(e) => setFaultOp(e.target.value as 'read' | 'write')} aria-label="Fault operation">
            <option value="read">reads</option>
            <option value="write">writes</option>
          </select>
        </label>
        <label>
          LBA <input type="number" min={0} value={faultLba} onChange={(e) => setFaultLba(Number(e.target.value))} className="num" />
        </label>
        <label>
          count <input type="number" min={1} value={faultCount} onChange={(e) => setFaultCount(Number(e.target.value))} className="num" />
        </label>
        <label>
          with{' '}
          <select value={faultCode} onChange={(e) => setFaultCode(e.target.value as DiskErrorCode)} aria-label="Fault error code">
            {FAULT_CODES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => add({ kind: 'fault', rules: [rule] }, 'a fault')}>
          Add fault
        </button>
      </div>
    </fieldset>
  );
}
