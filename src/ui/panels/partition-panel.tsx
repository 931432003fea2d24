/**
 * Partition table of the active stack, as its guest sees it: MBR or GPT partitions (number, type,
 * start LBA, size, GPT name and GUID, bootable) parsed in the disk worker by
 * src/core/formats/partitions (`partitionTable` in workers/api.ts), re-read when the stack's data
 * changes. "No partition table" is a state of its own; a damaged table shows what could be trusted
 * and the parser's warnings.
 *
 * Each partition row is `data-testid="partition-row"` with its numbers as data attributes; the
 * table itself carries `data-scheme`, so tests read data rather than text.
 */
import { useEffect, useState } from 'react';
import type { PartitionTable } from '../../../workers/api.ts';
import { describeError, formatBytes, formatInt } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';

type Partition = PartitionTable['partitions'][number];

export function PartitionPanel() {
  const lab = useLab();
  const stack = lab.active;
  const stackId = stack?.id;
  const disk = lab.client.disk;
  const [state, setState] = useState<{ stackId: string; table: PartitionTable | undefined; error: string | undefined } | undefined>(undefined);

  useEffect(() => {
    if (stackId === undefined) return;
    let cancelled = false;
    disk.partitionTable(stackId).then(
      (table) => !cancelled && setState({ stackId, table, error: undefined }),
      (e: unknown) => !cancelled && setState({ stackId, table: undefined, error: describeError(e) }),
    );
    return () => {
      cancelled = true;
    };
  }, [disk, stackId, lab.dataVersion]);

  const current = state && state.stackId === stackId ? state : undefined;
  const table = current?.table;
  return (
    <section className="panel partition-panel" aria-labelledby="partitions-title" data-testid="panel-partitions">
      <div className="panel-head">
        <h2 id="partitions-title">Partitions</h2>
        {table && <span className="muted small">{schemeText(table)}</span>}
      </div>
      {!stack ? (
        <p className="muted">No stack is open.</p>
      ) : current?.error ? (
        <p className="error small">Partition table: {current.error}</p>
      ) : !table ? (
        <p className="muted small">Reading the partition table…</p>
      ) : table.scheme === 'none' ? (
        <p className="muted" data-testid="partition-none" data-scheme="none">
          No partition table: sector 0 holds no MBR signature and there is no GPT header.
        </p>
      ) : (
        <table className="partitions small" aria-label="Partition table" data-testid="partition-table" data-scheme={table.scheme}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Type</th>
              <th scope="col">Start LBA</th>
              <th scope="col">Sectors</th>
              <th scope="col">Size</th>
              <th scope="col">{table.scheme === 'gpt' ? 'Name / GUID' : 'Kind'}</th>
              <th scope="col">Boot</th>
            </tr>
          </thead>
          <tbody>
            {table.partitions.map((p) => (
              <PartitionRow key={p.index} p={p} sectorSize={table.sectorSize} />
            ))}
            {table.partitions.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  The {table.scheme.toUpperCase()} lists no partitions.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {table && table.warnings.length > 0 && (
        <ul className="warnings small" aria-label="Partition table warnings">
          {table.warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function PartitionRow({ p, sectorSize }: { p: Partition; sectorSize: number }) {
  const type = p.type.kind === 'mbr' ? `0x${p.type.code.toString(16).padStart(2, '0')}` : p.type.guid;
  return (
    <tr data-testid="partition-row" data-index={p.index} data-start={p.startLba} data-sectors={p.sectors} data-type={type} data-bootable={String(p.bootable)}>
      <td>{p.index}</td>
      <td>
        {p.type.name ?? 'unknown'} <span className="muted">{type}</span>
      </td>
      <td>{formatInt(p.startLba)}</td>
      <td>{formatInt(p.sectors)}</td>
      <td>{formatBytes(p.sectors * sectorSize)}</td>
      <td>{p.type.kind === 'gpt' ? `${p.name || '(no name)'} · ${p.partitionGuid ?? ''}` : p.logical ? 'logical' : 'primary'}</td>
      <td>{p.bootable ? 'yes' : ''}</td>
    </tr>
  );
}

function schemeText(t: PartitionTable): string {
  if (t.scheme === 'mbr') return `MBR${t.diskSignature === undefined ? '' : `, disk signature 0x${t.diskSignature.toString(16).padStart(8, '0')}`}`;
  if (t.scheme === 'gpt') return `GPT${t.diskGuid ? `, disk ${t.diskGuid}` : ''}`;
  return '';
}
