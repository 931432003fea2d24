/**
 * Controller panel: a fio-like job form with presets, start and stop, live per-queue occupancy
 * (commands in flight against the queue depth, from the stats buffer each animation frame), and
 * the run's result summary as fio prints it.
 *
 * When the page is not cross-origin isolated there is no shared memory: a notice says so and the
 * job runs inside the disk worker instead (the inline fallback), with stats polled.
 */
import { useState, type ReactNode } from 'react';
import { RW_MODES, type RwMode } from '../../core/workload/job.ts';
import { formatResult } from '../../core/workload/results.ts';
import { formatBytes, formatCount, formatLatency } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { DEFAULT_FORM, PRESETS, toJob, type JobForm } from '../workload/job-form.ts';
import { useWorkload } from '../workload/workload-context.tsx';

export function ControllerPanel() {
  const lab = useLab();
  const stack = lab.active;
  const { runner, view } = useWorkload();
  const [form, setForm] = useState<JobForm>(DEFAULT_FORM);
  const [preset, setPreset] = useState(PRESETS[0]!.name);
  const [formError, setFormError] = useState<string | undefined>(undefined);
  const running = view.phase === 'running' || view.phase === 'stopping';
  const set = <K extends keyof JobForm>(key: K, value: JobForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const start = () => {
    if (!stack) return;
    const parsed = toJob(form, preset);
    if (!parsed.ok) {
      setFormError(parsed.message);
      return;
    }
    setFormError(undefined);
    void runner.start(stack.id, parsed.job, parsed.options);
  };

  const text = (key: 'bs' | 'iodepth' | 'queues' | 'size' | 'offset' | 'runtime' | 'ios' | 'rate' | 'rwmixread', label: string, hint?: string): ReactNode => (
    <label className="field">
      <span>{label}</span>
      <input value={form[key]} onChange={(e) => set(key, e.target.value)} placeholder={hint} aria-label={label} disabled={running} />
    </label>
  );

  return (
    <section className="panel controller-panel" aria-labelledby="controller-title" data-testid="panel-controller">
      <div className="panel-head">
        <h2 id="controller-title">Controller</h2>
        <span className="small muted" data-testid="workload-phase" data-phase={view.phase}>
          {view.phase}
          {view.mode === 'inline' ? ' (inline fallback)' : ''}
        </span>
      </div>
      {!lab.client.sharedMemory && (
        <p className="notice small" role="note" data-testid="isolation-notice">
          This page is not cross-origin isolated, so there is no shared memory for the controller&apos;s queues and live stats. Workloads run inside
          the disk worker instead and statistics are polled a few times a second; queue occupancy is approximate.
        </p>
      )}
      <form
        className="job-form"
        onSubmit={(e) => {
          e.preventDefault();
          start();
        }}
      >
        <label className="field preset">
          <span>Preset</span>
          <select
            value={preset}
            disabled={running}
            onChange={(e) => {
              const p = PRESETS.find((x) => x.name === e.target.value);
              setPreset(e.target.value);
              if (p) setForm(p.form);
            }}
          >
            {PRESETS.map((p) => (
              <option key={p.name}>{p.name}</option>
            ))}
          </select>
        </label>
        <div className="fields">
          <label className="field">
            <span>rw</span>
            <select value={form.rw} onChange={(e) => set('rw', e.target.value as RwMode)} disabled={running} aria-label="rw">
              {RW_MODES.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          {text('bs', 'bs')}
          {text('iodepth', 'iodepth')}
          {text('queues', 'queues')}
          {text('size', 'size', 'whole disk')}
          {text('offset', 'offset')}
          {text('runtime', 'runtime (s)', 'one pass')}
          {text('ios', 'ios', 'size / bs')}
          {text('rate', 'rate (IOPS)', 'unlimited')}
          {form.rw === 'randrw' && text('rwmixread', 'rwmixread %')}
        </div>
        <div className="row">
          <label>
            <input type="checkbox" checked={form.verify} onChange={(e) => set('verify', e.target.checked)} disabled={running} /> verify
          </label>
          <label>
            <input type="checkbox" checked={form.fua} onChange={(e) => set('fua', e.target.checked)} disabled={running} /> FUA writes
          </label>
          <button type="submit" className="primary" disabled={!stack || running}>
            Start
          </button>
          <button type="button" onClick={() => void runner.stop()} disabled={view.phase !== 'running'}>
            Stop
          </button>
        </div>
        {formError && (
          <p className="error small" role="alert">
            {formError}
          </p>
        )}
      </form>
      <QueueBars />
      <Summary />
    </section>
  );
}

function QueueBars() {
  const { view } = useWorkload();
  const stats = view.stats;
  const depth = view.options?.depth ?? 1;
  if (!stats) return null;
  const ops = stats.ops.read.ops + stats.ops.write.ops;
  const last = view.samples[view.samples.length - 1];
  return (
    <div className="queues" data-testid="queue-bars">
      <p className="small">
        {formatCount(ops)} I/Os · {formatBytes(stats.ops.read.bytes + stats.ops.write.bytes)}
        {last && (view.phase === 'running' || view.phase === 'stopping') && ` · now ${formatCount(last.iops)} IOPS, ${formatBytes(last.bytesPerSecond)}/s`}
        {stats.lastError && ` · ${formatCount(stats.lastError.count)} errors (last at LBA ${stats.lastError.lba})`}
      </p>
      {stats.queues.map((q, i) => (
        <div className="queue" key={i}>
          <span className="small">queue {i}</span>
          <meter min={0} max={depth} value={q.inFlight} aria-label={`Queue ${i} commands in flight`} />
          <span className="small muted">
            {q.inFlight}/{depth} in flight · peak {q.peakInFlight} · {formatCount(q.completed)} done
          </span>
        </div>
      ))}
    </div>
  );
}

function Summary() {
  const { view } = useWorkload();
  if (view.error) {
    return (
      <p className="error small" role="alert" data-testid="workload-error">
        {view.error}
      </p>
    );
  }
  const r = view.result;
  if (!r) return null;
  const ops = [
    ['read', r.read],
    ['write', r.write],
  ] as const;
  return (
    <div
      className="result small"
      role="status"
      data-testid="workload-result"
      data-ios={r.read.ios + r.write.ios}
      data-errors={r.read.errors + r.write.errors}
      data-mismatches={r.verify?.mismatches}
      data-blocks-checked={r.verify?.blocksChecked}
      data-aborted={r.aborted ?? ''}
    >
      <p>
        <strong>{r.job.name}</strong>: rw={r.job.rw}, bs={r.job.bs}, iodepth={r.job.iodepth}, queues={r.job.queues} · {(r.runtimeNs / 1e6).toFixed(0)} ms
      </p>
      {ops
        .filter(([, s]) => s.ios > 0 || s.errors > 0)
        .map(([name, s]) => {
          const p = (q: number) => s.clat.percentiles.find((x) => x.percentile === q)?.ns ?? 0;
          return (
            <p key={name}>
              <strong>
                {name}: IOPS={formatCount(s.iops)}, BW={formatBytes(s.bytesPerSecond)}/s
              </strong>{' '}
              ({formatCount(s.ios)} ios{s.errors > 0 ? `, ${s.errors} errors` : ''}) · clat avg {formatLatency(s.clat.meanNs)}, p50 {formatLatency(p(50))}, p99{' '}
              {formatLatency(p(99))}, max {formatLatency(s.clat.maxNs)}
            </p>
          );
        })}
      {r.verify && (
        <p className={r.verify.mismatches > 0 ? 'error' : ''}>
          verify: {r.verify.blocksChecked} blocks checked, {r.verify.mismatches} mismatches
        </p>
      )}
      {r.aborted !== undefined && <p className="error">aborted: {r.aborted}</p>}
      <details>
        <summary>fio-style output</summary>
        <pre>{formatResult(r)}</pre>
      </details>
    </div>
  );
}
