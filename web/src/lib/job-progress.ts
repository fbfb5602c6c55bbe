import { JOB_FINAL_STATUSES, type JobInfo, type JobStatus, type SessionInfo, type SessionReport } from '@lookout/contracts';

/**
 * What the web app says of a recording job (contracts jobs.ts) and of a recording's times.
 * Pure functions (no DOM), unit-tested in test/web/job-progress.test.ts.
 */

export type Recording = NonNullable<SessionInfo['recording']>;

export function isFinal(status: JobStatus): boolean {
  return (JOB_FINAL_STATUSES as readonly string[]).includes(status);
}

const RANK: Record<JobStatus, number> = { queued: 0, fetching: 1, running: 2, done: 3, failed: 3, cancelled: 3 };

/**
 * The job state to show when a new one arrives. The socket feed and the REST poll may
 * deliver in any order, so an older state must not replace a newer one: a final status
 * never changes again, a later status beats an earlier one, and within one status more
 * frames done is newer. A tie takes the incoming one (its ETA and `waiting` are fresher).
 */
export function newerJob(current: JobInfo | null, incoming: JobInfo): JobInfo {
  if (!current || current.jobId !== incoming.jobId) return incoming;
  if (isFinal(current.status)) return current;
  const rank = RANK[incoming.status] - RANK[current.status];
  if (rank !== 0) return rank > 0 ? incoming : current;
  return framesSeen(incoming) >= framesSeen(current) ? incoming : current;
}

function framesSeen(j: JobInfo): number {
  return j.framesDone + j.framesFailed;
}

/** Share of the frames done, 0..1; undefined while the total is unknown (a URL still downloading). */
export function jobFraction(j: JobInfo): number | undefined {
  if (j.status === 'done') return 1;
  if (!j.framesTotal) return undefined;
  return Math.min(1, framesSeen(j) / j.framesTotal);
}

/** "0:06", "1:02:03": a position in a video, cut down to the second as players show it. */
export function videoClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Where in the video an episode starts, in ms: the report's `videoMs`, else derived from its start. */
export function episodeVideoMs(alert: SessionReport['alerts'][number], recording: Recording): number {
  return alert.videoMs ?? Math.max(0, alert.startMs - recording.videoBaseMs);
}

function sizeText(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "2.4× real time" (or "0.6× real time": slower than the video plays). */
export function speedText(videoSecondsPerSecond: number): string {
  return `${videoSecondsPerSecond.toFixed(videoSecondsPerSecond < 10 ? 1 : 0)}× real time`;
}

/** One sentence of where a job stands, for its status line and the jobs list. */
export function jobSummary(j: JobInfo): string {
  const failed = j.framesFailed ? ` (${j.framesFailed} could not be decoded)` : '';
  switch (j.status) {
    case 'queued':
      return 'Queued: waiting for a free slot';
    case 'fetching':
      return `Downloading the video${j.bytes ? `: ${sizeText(j.bytes)} so far` : '…'}`;
    case 'running': {
      const total = j.framesTotal ? ` of ${j.framesTotal}` : '';
      const pct = jobFraction(j);
      const parts = [`Analysing: ${j.framesDone}${total} frames${pct === undefined ? '' : ` (${Math.round(pct * 100)}%)`}${failed}`];
      if (j.videoSecondsPerSecond !== undefined) parts.push(speedText(j.videoSecondsPerSecond));
      if (j.etaMs !== undefined) parts.push(`about ${videoClock(j.etaMs + 999)} left`);
      return parts.join(', ');
    }
    case 'done': {
      const took = j.startedMs !== undefined && j.endedMs !== undefined ? ` in ${videoClock(j.endedMs - j.startedMs + 999)}` : '';
      return `Done: ${j.framesDone} frames analysed${took}${failed}`;
    }
    case 'failed':
      return `Failed: ${j.error?.message ?? 'the job stopped'}`;
    case 'cancelled':
      return `Cancelled after ${j.framesDone} frames`;
  }
}

/** The query of an upload (`POST /jobs`, contracts JobUploadQuery): only what was filled in. */
export function uploadQuery(o: { name?: string; fps?: string; expectedSubjectId?: string }): string {
  const q = new URLSearchParams();
  const name = o.name?.trim();
  if (name) q.set('name', name.slice(0, 200));
  if (o.fps?.trim()) q.set('fps', o.fps.trim());
  if (o.expectedSubjectId) q.set('expectedSubjectId', o.expectedSubjectId);
  const s = q.toString();
  return s ? `?${s}` : '';
}
