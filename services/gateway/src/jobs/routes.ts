import type { Request, Response } from 'express';
import { Type } from '@sinclair/typebox';
import { JobCreateUrl, JobInfo, JobList, jobRoom, LookoutError, notFound, type JobCreateUrl as CreateUrl } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import type { Principal } from '../http/auth.js';
import type { JobIntake } from './intake.js';
import { sendVideo } from './video.js';

const tag = 'jobs';
const Job = Type.Object({ jobId: Type.String() });

export const jobNotFound = (id: string): LookoutError => notFound(`job: no job ${id}`, 'job');

/**
 * Recording jobs (docs/jobs.md): create from an upload or a URL, list, read, cancel,
 * delete, and the held video for the report's player. Admin only, but for the video, which
 * a viewer token of the job's room (`rec-<job>`) may also read, as a link (`?token=`: a
 * `<video src>` sends no header).
 */
export function registerJobRoutes(api: ApiRouter, intake: JobIntake): void {
  const jobs = intake.jobs;
  api.route(
    {
      method: 'post',
      path: '/jobs',
      tag,
      summary:
        'Analyse a recording. Upload: the video itself as the body (201 once it is stored and probed: durationMs, framesTotal; 422 not_video or too_long). URL: a JSON body {url, …}, 202 at once with status `fetching`, the download runs after (its failure fails the job: fetch_failed, destination_not_allowed)',
      access: 'admin',
      body: JobCreateUrl,
      upload: {
        contentType: 'video/*',
        description:
          'The video (video/* or application/octet-stream), streamed to disk as it arrives; larger than JOB_MAX_BYTES is 413 body_too_large, before it is read when Content-Length says so. Options in the query: `name`, `fps` (0.2–10, default 5), `expectedSubjectId`. The file name in `X-File-Name` (URI-encoded) or `Content-Disposition: attachment; filename=…`',
      },
      response: JobInfo,
      status: 201,
      alsoStatus: { status: 202, description: 'A URL job, accepted: status `fetching`, the download runs after the answer' },
    },
    async (req, res) => {
      if (!req.is('application/json')) return intake.upload(req);
      res.status(202).json(await intake.fromUrl(req.body as CreateUrl));
    },
  );

  api.route({ method: 'get', path: '/jobs', tag, summary: 'Recording jobs, newest first', access: 'admin', response: JobList }, async () => {
    // Once per job: a KV key listing can name a key twice when it is written meanwhile (running jobs are).
    const unique = new Map((await jobs.list()).map((j) => [j.jobId, j]));
    return { jobs: [...unique.values()].sort((a, b) => b.createdMs - a.createdMs) };
  });

  api.route({ method: 'get', path: '/jobs/:job', tag, summary: 'A recording job: status, progress (framesDone / framesTotal, ETA), error', access: 'admin', response: JobInfo }, async (req) => {
    const id = String(req.params.job);
    const info = await jobs.get(id);
    if (!info) throw jobNotFound(id);
    return info;
  });

  api.route({ method: 'post', path: '/jobs/:job/cancel', tag, summary: 'Cancel a job (its session ends with what was analysed); 409 job_ended once it has ended', access: 'admin', response: JobInfo }, (req) =>
    intake.cancel(String(req.params.job)),
  );

  api.route({ method: 'delete', path: '/jobs/:job', tag, summary: 'Delete a job and erase its video (cancelled first if it runs); its session and report stay', access: 'admin', response: Job, status: 204 }, async (req, res) => {
    await intake.remove(String(req.params.job));
    res.status(204).end();
  });

  api.route(
    {
      method: 'get',
      path: '/jobs/:job/video',
      tag,
      summary: 'The job\'s video, with Range requests (206) for a player that seeks; 404 when this gateway does not hold it, or while it is still arriving (`?token=` works for links)',
      access: 'any',
      accessNote: 'admin; a viewer token of the job\'s room (rec-<job>); others 403',
      raw: { contentType: 'video/*' },
      link: true,
    },
    async (req: Request, res: Response) => {
      const id = String(req.params.job);
      requireJobViewer(req.principal!, id);
      const file = jobs.videoFile(id);
      if (!file) throw notFound(`job: this gateway holds no video of job ${id}`, 'job');
      // Still arriving (uploaded or downloaded): a player would take the part there is for the whole.
      if ((await jobs.get(id))?.status === 'fetching') throw notFound(`job: the video of job ${id} is still arriving`, 'job');
      await sendVideo(req, res, file);
    },
  );
}

/**
 * Admin, or a viewer of the job's own room. Decided on the id alone, before the job is
 * looked up: a token of another room learns nothing of which jobs exist.
 */
function requireJobViewer(p: Principal, jobId: string): void {
  if (p.kind === 'admin') return;
  const room = jobRoom(jobId);
  if (p.claims.room !== room) throw new LookoutError('forbidden', `token: not valid for job ${jobId} (a viewer token of room ${room} is)`);
  if (p.claims.role !== 'viewer') throw new LookoutError('forbidden', 'token: only a viewer token of the job\'s room may read its video');
}
