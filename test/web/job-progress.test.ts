import type { JobInfo, SessionReport } from '@lookout/contracts';
import { episodeVideoMs, isFinal, jobFraction, jobSummary, newerJob, uploadQuery, videoClock } from '../../web/src/lib/job-progress.js';

const base: JobInfo = {
  jobId: 'j1',
  name: 'interview.webm',
  room: 'rec-j1',
  stream: 'video',
  sessionId: 's1',
  source: { kind: 'upload', fileName: 'interview.webm' },
  status: 'running',
  fps: 5,
  createdMs: 1_000,
  framesTotal: 60,
  framesDone: 20,
  framesFailed: 0,
};
const job = (o: Partial<JobInfo>): JobInfo => ({ ...base, ...o });

describe("the web app's recording job progress (lib/job-progress.ts)", () => {
  it('keeps the newer state whatever order the socket and the poll deliver in', () => {
    expect(newerJob(null, base)).toBe(base);
    const later = job({ framesDone: 30 });
    expect(newerJob(later, base)).toBe(later);
    expect(newerJob(base, later)).toBe(later);
    // A later status wins over more frames of an earlier one; a final one never changes.
    const queued = job({ status: 'queued', framesDone: 0 });
    expect(newerJob(base, queued)).toBe(base);
    const done = job({ status: 'done', framesDone: 60 });
    expect(newerJob(base, done)).toBe(done);
    expect(newerJob(done, job({ status: 'running', framesDone: 60 }))).toBe(done);
    expect(newerJob(done, job({ status: 'failed' }))).toBe(done);
    // Same frames: the incoming one (fresher ETA); another job: the incoming one.
    const eta = job({ etaMs: 5000 });
    expect(newerJob(base, eta)).toBe(eta);
    const other = job({ jobId: 'j2', framesDone: 0 });
    expect(newerJob(base, other)).toBe(other);
    expect(['done', 'failed', 'cancelled', 'running', 'queued', 'fetching'].map((s) => isFinal(s as JobInfo['status']))).toEqual([true, true, true, false, false, false]);
  });

  it('says where a job stands: frames, share, speed, time left, and why it stopped', () => {
    expect(jobSummary(job({ etaMs: 8_200, videoSecondsPerSecond: 2.34 }))).toBe('Analysing: 20 of 60 frames (33%), 2.3× real time, about 0:09 left');
    expect(jobSummary(job({ framesFailed: 2, framesTotal: undefined }))).toBe('Analysing: 20 frames (2 could not be decoded)');
    expect(jobSummary(job({ status: 'queued', framesDone: 0 }))).toBe('Queued: waiting for a free slot');
    expect(jobSummary(job({ status: 'fetching', bytes: 3 * 1024 * 1024 }))).toBe('Downloading the video: 3.0 MB so far');
    expect(jobSummary(job({ status: 'done', framesDone: 60, startedMs: 10_000, endedMs: 15_500 }))).toBe('Done: 60 frames analysed in 0:06');
    expect(jobSummary(job({ status: 'failed', error: { code: 'destination_not_allowed', message: 'url: 10.0.0.1 is a private address' } }))).toBe('Failed: url: 10.0.0.1 is a private address');
    expect(jobSummary(job({ status: 'cancelled' }))).toBe('Cancelled after 20 frames');
    expect([jobFraction(base), jobFraction(job({ framesTotal: undefined })), jobFraction(job({ status: 'done', framesTotal: undefined }))]).toEqual([1 / 3, undefined, 1]);
    // framesTotal is an estimate: never more than a full bar.
    expect(jobFraction(job({ framesDone: 70 }))).toBe(1);
  });

  it('shows video times as a player does, and finds an episode in the video', () => {
    expect([videoClock(0), videoClock(5_999), videoClock(6_200), videoClock(65_000), videoClock(3_723_000), videoClock(-20)]).toEqual(['0:00', '0:05', '0:06', '1:05', '1:02:03', '0:00']);
    const alert = { id: 'a', kind: 'identity_changed', severity: 'warning', startMs: 1_000_006_200, endMs: null, message: 'identity changed' } as SessionReport['alerts'][number];
    const recording = { jobId: 'j1', videoBaseMs: 1_000_000_000 };
    expect(episodeVideoMs(alert, recording)).toBe(6_200);
    expect(episodeVideoMs({ ...alert, videoMs: 6_000 }, recording)).toBe(6_000);
  });

  it('puts only the filled-in options in an upload\'s query', () => {
    expect(uploadQuery({})).toBe('');
    expect(uploadQuery({ name: '  ', fps: '', expectedSubjectId: '' })).toBe('');
    expect(uploadQuery({ name: 'Exam 3 — room B', fps: ' 2.5 ', expectedSubjectId: 'obama' })).toBe('?name=Exam+3+%E2%80%94+room+B&fps=2.5&expectedSubjectId=obama');
  });
});
