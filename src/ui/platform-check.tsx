/**
 * The "Platform check" panel, kept compact at the foot of the lab: runs the real checks in
 * ./platform/checks.ts when it mounts (and on "Run again") and shows each verdict on one row (what
 * each check is needed for is the heading's tooltip). Every row carries `data-testid="check-<id>"` and
 * `data-status` (pending | pass | fail) so tests and people read the same thing.
 */
import { useEffect, useState } from 'react';
import {
  PENDING,
  checkAtomicsWaitAsync,
  checkCrossOriginIsolation,
  probeOpfsSyncAccessHandle,
  type CheckResult,
} from './platform/checks.ts';

interface CheckRow {
  readonly id: string;
  readonly label: string;
  readonly why: string;
  readonly result: CheckResult;
}

const STATUS_TEXT: Record<CheckResult['status'], string> = { pending: 'Checking', pass: 'Pass', fail: 'Fail' };

export function PlatformCheck() {
  const [run, setRun] = useState(0);
  const [isolation, setIsolation] = useState<CheckResult>(PENDING);
  const [waitAsync, setWaitAsync] = useState<CheckResult>(PENDING);
  const [opfs, setOpfs] = useState<CheckResult>(PENDING);

  useEffect(() => {
    setIsolation(checkCrossOriginIsolation());
    setWaitAsync(checkAtomicsWaitAsync());
    setOpfs(PENDING);
    const probe = probeOpfsSyncAccessHandle();
    void probe.result.then(setOpfs);
    return () => probe.cancel();
  }, [run]);

  const rows: CheckRow[] = [
    { id: 'cross-origin-isolated', label: 'Cross-origin isolation', why: 'shared memory for the controller queues and live statistics', result: isolation },
    { id: 'opfs-sync-handle', label: 'OPFS sync access handle', why: 'persistent disk images owned by the disk worker', result: opfs },
    { id: 'atomics-wait-async', label: 'Atomics.waitAsync', why: 'a disk worker that waits on doorbells without blocking', result: waitAsync },
  ];
  const busy = rows.some((row) => row.result.status === 'pending');

  return (
    <section className="panel platform" aria-labelledby="platform-check-title" data-testid="platform-check">
      <div className="panel-head">
        <h2 id="platform-check-title">Platform check</h2>
        <button type="button" onClick={() => setRun((n) => n + 1)} disabled={busy}>
          Run again
        </button>
      </div>
      <ul className="checks" aria-busy={busy}>
        {rows.map((row) => (
          <li key={row.id} className={`check check-${row.result.status}`} data-testid={`check-${row.id}`} data-status={row.result.status}>
            <span className="badge" aria-hidden="true">
              {row.result.status === 'pass' ? '✓' : row.result.status === 'fail' ? '✗' : '…'}
            </span>
            <div>
              <h3 title={`Needed for: ${row.why}.`}>
                {row.label}: <span className="verdict">{STATUS_TEXT[row.result.status]}</span>
              </h3>
              <p className="detail" role="status">
                {row.result.detail}
              </p>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
