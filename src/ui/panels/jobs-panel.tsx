/**
 * Jobs panel: start commit, stream, mirror, backup (raw, or a full VHD that starts an incremental
 * chain, then incremental differencing VHDs from the dirty bitmap) or export (raw, dynamic VHD,
 * qcow2) on the active stack, with a speed
 * limit; each job shows a progress bar with bytes, rate and ETA and pause/resume/cancel (and
 * "switch over" for a converged mirror), and a speed limit that can change while it runs.
 *
 * Progress is a polled snapshot (`listJobs`, every POLL_MS while a job runs), never a message
 * per I/O. While a commit or stream runs on the active stack the lab's data version is bumped on
 * each poll, so the occupancy map re-reads and shows blocks moving between layers.
 * Each job is `data-testid="job"` with `data-kind`, `data-state` and `data-error-code`.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ExportFormat, JobInfo, JobRequest } from '../../../workers/storage-api.ts';
import { formatBytes } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';
import { downloadOpfsFile } from '../lab/opfs-download.ts';

const POLL_MS = 300;
const IDLE_POLL_MS = 2000;
const ENDED = new Set(['completed', 'cancelled', 'failed']);
/** What the form offers: the request kinds, with backup split by mode. */
type Kind = 'commit' | 'stream' | 'mirror' | 'backup' | 'backup-full' | 'backup-incremental' | 'export';

export function JobsPanel() {
  const lab = useLab();
  const { client, run, active, refresh } = lab;
  const disk = client.disk;
  const [jobs, setJobs] = useState<readonly JobInfo[]>([]);
  const [kind, setKind] = useState<Kind>('backup');
  const [target, setTarget] = useState('backup.img');
  const [format, setFormat] = useState<ExportFormat>('raw');
  const [limitMBs, setLimitMBs] = useState('');
  // `refresh` changes with every data version: a ref keeps the timer from restarting on each bump.
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;

  const endedSeen = useRef(new Set<string>());
  const poll = useCallback(async () => {
    const list = await disk.listJobs().catch(() => undefined);
    if (!list) return undefined;
    setJobs(list);
    // A job that has just ended (however short it was) may have changed its stack: re-read it.
    const fresh = list.filter((j) => ENDED.has(j.state) && !endedSeen.current.has(j.id));
    for (const j of fresh) endedSeen.current.add(j.id);
    if (fresh.length > 0) void refreshRef.current();
    return list;
  }, [disk]);

  useEffect(() => {
    void poll();
    // Jobs can start elsewhere (a lesson, another panel): look for them now and then while idle.
    const timer = setInterval(() => void poll(), IDLE_POLL_MS);
    return () => clearInterval(timer);
  }, [poll, active?.id]);

  const running = jobs.some((j) => !ENDED.has(j.state));
  const moving = jobs.some((j) => !ENDED.has(j.state) && (j.kind === 'commit' || j.kind === 'stream') && j.stackId === active?.id);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      void poll();
      if (moving) void refreshRef.current();
    }, POLL_MS);
    return () => {
      clearInterval(timer);
      void refreshRef.current(); // the final state of what the job changed
    };
  }, [running, moving, poll]);

  const limit = (text: string): number | undefined => {
    const n = Number(text);
    return text.trim() === '' || !Number.isFinite(n) || n <= 0 ? undefined : n * 1024 * 1024;
  };

  const start = async () => {
    if (!active) return;
    const request: JobRequest =
      kind === 'commit' || kind === 'stream'
        ? { kind }
        : kind === 'export'
          ? { kind, target, format }
          : kind === 'backup-full'
            ? { kind: 'backup', target, mode: 'full' }
            : kind === 'backup-incremental'
              ? { kind: 'backup', target, mode: 'incremental' }
              : { kind, target };
    const speedLimit = limit(limitMBs);
    const info = await run(`Starting ${kind}`, () => disk.startJob(active.id, request, speedLimit === undefined ? {} : { speedLimit }));
    if (info) await poll();
  };

  const control = (id: string, action: 'pause' | 'resume' | 'cancel' | 'complete') => void run(`${action} job`, () => disk.jobControl(id, action)).then(poll);

  return (
    <section className="panel jobs-panel" aria-labelledby="jobs-title" data-testid="panel-jobs">
      <h2 id="jobs-title">Jobs</h2>
      {!active ? (
        <p className="muted">Open a stack to run jobs on it.</p>
      ) : (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <select
            value={kind}
            onChange={(e) => {
              const k = e.target.value as Kind;
              setKind(k);
              // The chain's files are VHDs; a name that says so downloads and reopens as one.
              if (k === 'backup-full') setTarget('backup-full.vhd');
              else if (k === 'backup-incremental') setTarget(`backup-inc-${jobs.filter((j) => j.kind === 'incremental-backup').length + 1}.vhd`);
            }}
            aria-label="Job kind"
          >
            <option value="commit">commit top layer down</option>
            <option value="stream">stream base into top</option>
            <option value="mirror">mirror to new image</option>
            <option value="backup">backup to new image</option>
            <option value="backup-full">full backup (VHD, starts an incremental chain)</option>
            <option value="backup-incremental">incremental backup (differencing VHD)</option>
            <option value="export">export to new image</option>
          </select>
          {kind !== 'commit' && kind !== 'stream' && (
            <input value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Target image name" className="name" />
          )}
          {kind === 'export' && (
            <select value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)} aria-label="Export format">
              <option value="raw">raw</option>
              <option value="vhd">dynamic VHD</option>
              <option value="qcow2">qcow2</option>
            </select>
          )}
          <label>
            MB/s <input value={limitMBs} onChange={(e) => setLimitMBs(e.target.value)} aria-label="Speed limit MB/s" className="num" placeholder="∞" />
          </label>
          <button type="submit">Start</button>
        </form>
      )}
      <ul className="jobs">
        {[...jobs].reverse().map((j) => (
          <JobRow key={j.id} job={j} onControl={control} onLimit={(v) => void run('Setting the speed limit', () => disk.setJobSpeedLimit(j.id, limit(v))).then(poll)} />
        ))}
      </ul>
    </section>
  );
}

function JobRow({ job, onControl, onLimit }: { job: JobInfo; onControl: (id: string, a: 'pause' | 'resume' | 'cancel' | 'complete') => void; onLimit: (mbs: string) => void }) {
  const lab = useLab();
  const ended = ENDED.has(job.state);
  const [limit, setLimit] = useState(job.speedLimit ? String(job.speedLimit / 2 ** 20) : '');
  return (
    <li data-testid="job" data-job-id={job.id} data-kind={job.kind} data-state={job.state} data-error-code={job.error?.code} data-output={job.output?.path}>
      <div className="small">
        <strong>{job.kind}</strong> {job.label} · <span data-testid="job-state">{job.state}</span>
      </div>
      <progress max={job.bytesTotal || 1} value={job.bytesDone} aria-label={`Progress of ${job.label}`} />{' '}
      <span className="small">
        {formatBytes(job.bytesDone)} / {formatBytes(job.bytesTotal)}
        {job.rate > 0 && ` · ${formatBytes(job.rate)}/s`}
        {!ended && job.etaSeconds !== undefined && ` · ${job.etaSeconds.toFixed(0)} s left`}
      </span>
      {!ended && (
        <div className="row small">
          {job.state === 'paused' ? (
            <button type="button" onClick={() => onControl(job.id, 'resume')}>Resume</button>
          ) : (
            <button type="button" onClick={() => onControl(job.id, 'pause')}>Pause</button>
          )}
          <button type="button" onClick={() => onControl(job.id, 'cancel')}>Cancel</button>
          {job.state === 'ready' && (
            <button type="button" onClick={() => onControl(job.id, 'complete')}>Switch over</button>
          )}
          <label>
            MB/s <input value={limit} onChange={(e) => setLimit(e.target.value)} onBlur={() => onLimit(limit)} aria-label={`Speed limit of ${job.id}`} className="num" placeholder="∞" />
          </label>
        </div>
      )}
      {job.error && (
        <p className="error small" role="alert">
          {job.error.code}: {job.error.message}
        </p>
      )}
      {job.note && <p className="small muted">{job.note}</p>}
      {job.state === 'completed' && job.output && job.kind === 'mirror' && lab.stacks.some((s) => s.id === job.stackId) && (
        <button
          type="button"
          className="link"
          onClick={() => {
            const out = job.output!;
            // Closing the stack closes the mirror's image (the worker held it for the switched stack).
            void lab.close(job.stackId).then(() => lab.open({ kind: 'opfs', path: out.path }, out.name));
          }}
        >
          Reopen on {job.output.name}
        </button>
      )}
      {job.state === 'completed' && job.output && (job.kind === 'export' || job.kind === 'incremental-backup' || (job.kind === 'backup' && job.output.name.endsWith('.vhd'))) && (
        <button type="button" className="link" onClick={() => void lab.run(`Downloading ${job.output!.name}`, () => downloadOpfsFile(job.output!.path, job.output!.name))}>
          Download {job.output.name}
        </button>
      )}
    </li>
  );
}
