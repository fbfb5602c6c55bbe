import { useEffect, useRef, useState } from 'preact/hooks';
import type { JobInfo } from '@lookout/contracts';
import { useJobFollow } from '../lib/job-follow';
import { isFinal, jobFraction, jobSummary, videoClock } from '../lib/job-progress';
import { cancelJob, deleteJob } from '../lib/jobs';
import { href } from '../lib/route';
import { errorText } from '../lib/upload';
import { Fact } from './fact';

const TONE: Record<JobInfo['status'], string> = { queued: '', fetching: '', running: 'ok', done: 'ok', failed: 'bad', cancelled: 'warn' };

/** One recording job (`#/sessions?job=`): its progress until it ends, then a link to its report. */
export function RecordingJobView({ jobId }: { jobId: string }) {
  const [reload, setReload] = useState(0);
  const { job, error, via } = useJobFollow(jobId, reload);
  const [actionError, setActionError] = useState<unknown>(null);

  async function act(what: 'cancel' | 'delete') {
    setActionError(null);
    try {
      if (what === 'cancel') {
        await cancelJob(jobId);
        setReload((n) => n + 1);
      } else {
        await deleteJob(jobId);
        location.hash = href('sessions');
      }
    } catch (e) {
      setActionError(e);
    }
  }

  return (
    <>
      <div class="row session-head">
        <h1>Recording {job ? <q>{job.name}</q> : <code>{jobId}</code>}</h1>
        {job && <span class={`status ${TONE[job.status]}`}>{job.status}</span>}
        <span class="session-head-actions">
          <a href={href('sessions')}>All sessions</a>
          {job && !isFinal(job.status) && (
            <button type="button" class="secondary" onClick={() => void act('cancel')}>
              Cancel job
            </button>
          )}
          {job && isFinal(job.status) && <DeleteJobButton onDelete={() => void act('delete')} />}
        </span>
      </div>
      {!job && error === null && <p role="status">Loading the job…</p>}
      {job && <JobCard job={job} via={via} />}
      {[error, actionError].map(
        (e) =>
          e !== null && (
            <p class="error" role="alert">
              {errorText(e)}
            </p>
          ),
      )}
    </>
  );
}

/** Deleting erases the held video (the report stays): asked once more, the safe choice beside it. */
function DeleteJobButton({ onDelete }: { onDelete: () => void }) {
  const [asking, setAsking] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="secondary" onClick={() => setAsking(true)}>
        Delete job
      </button>
    );
  }
  return (
    <span class="session-end" role="group" aria-label="Delete the job">
      <span id="delete-job-q">Delete the job and its video? The report stays.</span>
      <button type="button" class="danger" ref={confirm} onClick={onDelete} aria-describedby="delete-job-q">
        Yes, delete
      </button>
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Keep it
      </button>
    </span>
  );
}

function JobCard({ job, via }: { job: JobInfo; via: 'socket' | 'poll' }) {
  const fraction = jobFraction(job);
  return (
    <section class="card recording-job" aria-labelledby="job-progress-title" data-testid="recording-job">
      <h2 id="job-progress-title">Progress</h2>
      <div class="recording-progress">
        <label for="recording-job-progress">Frames</label>
        {/* No value while the total is unknown: an indeterminate bar. */}
        <progress id="recording-job-progress" max={1} {...(fraction !== undefined ? { value: fraction } : {})} />
        <span>{fraction === undefined ? '…' : `${Math.round(fraction * 100)}%`}</span>
      </div>
      <p role="status" aria-live="polite" data-testid="recording-job-status">
        {jobSummary(job)}
      </p>
      {job.waiting && !isFinal(job.status) && <p class="status warn">Waiting: {job.waiting}</p>}
      <dl class="session-facts">
        <Fact term="Source" value={job.source.kind === 'url' ? job.source.url : (job.source.fileName ?? 'upload')} />
        <Fact term="Sampling" value={`${job.fps} frames per second`} />
        {job.durationMs !== undefined && <Fact term="Video length" value={videoClock(job.durationMs)} />}
        <Fact term="Frames" value={`${job.framesDone}${job.framesTotal ? ` of ${job.framesTotal}` : ''}${job.framesFailed ? `, ${job.framesFailed} undecodable` : ''}`} />
        <Fact term="Created" value={new Date(job.createdMs).toLocaleString()} />
        {!isFinal(job.status) && <Fact term="Updates" value={via === 'socket' ? 'live (WebSocket)' : 'polled every 2 s'} />}
      </dl>
      <p>
        <a href={href('sessions', { session: job.sessionId })} class={job.status === 'done' ? 'button' : ''}>
          {job.status === 'done' ? 'Open the report' : isFinal(job.status) ? 'The report of what was analysed' : 'The report so far'}
        </a>
      </p>
    </section>
  );
}

