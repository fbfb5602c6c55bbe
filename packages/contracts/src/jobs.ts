import { Type, type Static } from '@sinclair/typebox';
import { ErrorBody } from './errors.js';
import { Id, assertId } from './ids.js';
import { RuleThresholds } from './rules.js';
import { validator } from './validation.js';

/**
 * Recording analysis (docs/jobs.md): a video uploaded through the REST API or fetched from
 * an http(s) URL is sampled at `fps` and every sampled frame is analysed, none shed: the
 * gateway that holds the video decodes it and asks a detector (`detector.analyze_frame`)
 * and then reid (`reid.analyze_frame`) for each frame, with a bounded number in flight,
 * retrying what a lost or busy replica did not answer. Its results are those of a live
 * session: the job has its own room (`rec-<jobId>`) and stream (`video`), a session is
 * started on it, and its frames carry capture times `videoBaseMs + video time`, so the
 * report's times minus `videoBaseMs` are video times.
 */

export const JOB_STREAM = 'video';

/** The room of a job: its analysis, alerts and metrics are published as a live room's. */
export function jobRoom(jobId: string): string {
  assertId('job', jobId);
  return `rec-${jobId}`;
}

export const JOB_STATUSES = ['queued', 'fetching', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** A job in one of these never changes again. */
export const JOB_FINAL_STATUSES = ['done', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

/** Sampling bounds: 5 fps is the live default; more than 10 costs time and tells little more. */
export const JOB_FPS = { default: 5, min: 0.2, max: 10 } as const;

const Fps = Type.Number({ minimum: JOB_FPS.min, maximum: JOB_FPS.max, description: `Frames sampled per second of video (default ${JOB_FPS.default})` });
const JobName = Type.String({ minLength: 1, maxLength: 200, description: 'Shown in the jobs list and the report (default: the file name or the URL\'s last segment)' });

/** `POST /jobs` with a JSON body: analyse the video at `url`. (An upload sends the video itself, options in the query.) */
export const JobCreateUrl = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://', description: 'http(s) URL of the video; its host must resolve to an allowed address (as webhooks: private ranges only when allow-listed)' }),
    name: Type.Optional(JobName),
    fps: Type.Optional(Fps),
    expectedSubjectId: Type.Optional(Id),
    rules: Type.Optional(RuleThresholds),
  },
  { $id: 'JobCreateUrl', additionalProperties: false },
);
export type JobCreateUrl = Static<typeof JobCreateUrl>;
export const jobCreateUrl = validator('job', JobCreateUrl);

/** The query of an upload (`POST /jobs`, body = the video): numbers arrive as strings. */
export const JobUploadQuery = Type.Object(
  {
    name: Type.Optional(JobName),
    fps: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 8 })),
    expectedSubjectId: Type.Optional(Id),
  },
  { $id: 'JobUploadQuery', additionalProperties: false },
);
export type JobUploadQuery = Static<typeof JobUploadQuery>;
export const jobUploadQuery = validator('job upload query', JobUploadQuery);

export const JobSource = Type.Union(
  [
    Type.Object({ kind: Type.Literal('upload'), fileName: Type.Optional(Type.String({ maxLength: 255 })) }, { additionalProperties: false }),
    Type.Object({ kind: Type.Literal('url'), url: Type.String({ maxLength: 2048 }) }, { additionalProperties: false }),
  ],
  { $id: 'JobSource' },
);
export type JobSource = Static<typeof JobSource>;

export const JobInfo = Type.Object(
  {
    jobId: Id,
    name: Type.String(),
    room: Id,
    stream: Id,
    sessionId: Id,
    source: JobSource,
    status: Type.Union(JOB_STATUSES.map((s) => Type.Literal(s))),
    fps: Type.Number(),
    createdMs: Type.Integer(),
    startedMs: Type.Optional(Type.Integer({ description: 'When sampling began' })),
    endedMs: Type.Optional(Type.Integer()),
    bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Size of the video held (uploaded or downloaded so far)' })),
    durationMs: Type.Optional(Type.Integer({ minimum: 0, description: 'Video duration analysed (capped at JOB_MAX_DURATION_S)' })),
    videoBaseMs: Type.Optional(Type.Integer({ description: 'Capture time given to video time 0: an event at t ms is at video time t − videoBaseMs' })),
    framesTotal: Type.Optional(Type.Integer({ minimum: 0, description: 'Frames to sample (an estimate from the duration until the video is read to its end)' })),
    framesDone: Type.Integer({ minimum: 0, description: 'Sampled frames fully analysed (detector and reid), in order' }),
    framesFailed: Type.Integer({ minimum: 0, description: 'Sampled frames that could not be analysed (an undecodable picture): counted, never retried' }),
    etaMs: Type.Optional(Type.Integer({ minimum: 0, description: 'Estimated time to finish at the recent rate' })),
    videoSecondsPerSecond: Type.Optional(Type.Number({ minimum: 0, description: 'Video seconds analysed per wall second, recently' })),
    waiting: Type.Optional(Type.String({ description: 'Why the job is not moving now (e.g. no detector answered); cleared when frames flow again' })),
    error: Type.Optional(ErrorBody),
  },
  { $id: 'JobInfo' },
);
export type JobInfo = Static<typeof JobInfo>;
export const jobInfo = validator('job info', JobInfo);

/**
 * KV `lookout_jobs`: a job and who runs it. The gateway holding the video renews a lease
 * while it runs it; another gateway (or the same one restarted) that holds the video takes
 * over a job whose lease ran out, resuming after `framesDone` (reid ignores a frame it has
 * already counted, so a frame analysed twice changes nothing).
 */
export const JobRecord = Type.Object(
  {
    info: JobInfo,
    owner: Type.Optional(Type.String({ maxLength: 128, description: 'Gateway instance running it' })),
    leaseUntilMs: Type.Optional(Type.Integer()),
    mediaHost: Type.Optional(Type.String({ maxLength: 128, description: 'Gateway instance whose JOBS_DIR holds the video' })),
  },
  { $id: 'JobRecord', additionalProperties: false },
);
export type JobRecord = Static<typeof JobRecord>;
export const jobRecord = validator('job record', JobRecord);

export const JobList = Type.Object({ jobs: Type.Array(JobInfo) }, { $id: 'JobList' });
export type JobList = Static<typeof JobList>;

/** `detector.analyze_frame`: one sampled frame of a job (JPEG payload); answered with the faces message of a live frame. */
export const AnalyzeFrameRequest = Type.Object(
  {
    job: Id,
    room: Id,
    stream: Id,
    seq: Type.Integer({ minimum: 0 }),
    captureMs: Type.Integer({ minimum: 0 }),
  },
  { $id: 'AnalyzeFrameRequest', additionalProperties: false },
);
export type AnalyzeFrameRequest = Static<typeof AnalyzeFrameRequest>;

/** `reid.analyze_frame`: what a job's frame came to in its stream's state. */
export const ReidFrameResult = Type.Object(
  {
    seq: Type.Integer({ minimum: 0 }),
    outcome: Type.Union([Type.Literal('committed'), Type.Literal('late'), Type.Literal('uncommitted')], {
      description: 'committed: the state advanced; late: the state was already past this frame (a retry of a counted frame); uncommitted: lost every compare-and-set race (the caller retries)',
    }),
  },
  { $id: 'ReidFrameResult' },
);
export type ReidFrameResult = Static<typeof ReidFrameResult>;
