/**
 * The block-jobs lesson's view of its mirror, polled from the disk worker a few times a second
 * while the lesson is open: state, bytes copied of the total so far (which grows while the guest
 * dirties copied granules), what is still to copy, the rate, and the snapshot taken when the
 * mirror first became ready. The jobs panel lists jobs it started itself; this view follows the
 * job the lesson started. A failed poll shows nothing new and tries again on the next tick.
 */
import { useEffect, useState } from 'react';
import type { JobInfo } from '../../../workers/storage-api.ts';
import { formatBytes } from '../format.ts';
import type { Lab } from '../lab/lab-context.tsx';
import type { LessonSession } from './lesson-session.ts';

const POLL_MS = 200;

export function JobState({ disk, session }: { readonly disk: Lab['client']['disk']; readonly session: LessonSession }) {
  const [job, setJob] = useState<JobInfo | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const tick = async () => {
      const id = session.job?.id;
      if (id === undefined) return;
      const found = (await disk.listJobs().catch(() => undefined))?.find((j) => j.id === id);
      if (live && found) setJob(found);
    };
    const timer = setInterval(() => void tick(), POLL_MS);
    void tick();
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [disk, session]);
  const ready = session.job?.atReady;
  const fraction = job && job.bytesTotal > 0 ? job.bytesDone / job.bytesTotal : 0;
  return (
    <div className="lesson-job-state" data-testid="lesson-job-state" data-state={job?.state ?? 'none'} aria-label="The lesson's block job">
      {job === undefined ? (
        <p className="small muted">No block job yet.</p>
      ) : (
        <dl className="small">
          <dt>Mirror</dt>
          <dd data-testid="job-state-label">
            {job.label}: <strong>{job.state}</strong>
          </dd>
          <dt>Copied</dt>
          <dd>
            <progress max={1} value={fraction} aria-label="Mirror progress" /> <span data-testid="job-state-done" data-value={job.bytesDone}>{formatBytes(job.bytesDone)}</span> of{' '}
            <span data-testid="job-state-total" data-value={job.bytesTotal}>{formatBytes(job.bytesTotal)}</span>, {formatBytes(job.rate)}/s
          </dd>
          <dt>Still to copy</dt>
          <dd data-testid="job-state-dirty" data-value={job.bytesTotal - job.bytesDone}>{formatBytes(job.bytesTotal - job.bytesDone)}</dd>
          {ready && (
            <>
              <dt>At ready</dt>
              <dd data-testid="job-state-at-ready" data-done={ready.bytesDone} data-total={ready.bytesTotal}>
                {ready.bytesDone} of {ready.bytesTotal} bytes copied
              </dd>
            </>
          )}
          {job.note && (
            <>
              <dt>Note</dt>
              <dd>{job.note}</dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}
