import path from 'node:path';
import type { Request } from 'express';
import { JOB_FPS, LookoutError, type JobCreateUrl, type JobInfo, type JobSource, jobUploadQuery, type JobUploadQuery, type RuleThresholds } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { closeAfterAnswer } from '../http/raw-body.js';
import type { DestinationPolicy } from '../webhooks/destination.js';
import { checkUploadHeaders, streamBodyToFile } from './upload.js';
import { fetchToFile } from './url-fetch.js';

/** What the intake needs of the job engine (JobService, service.ts). */
export interface JobsPort {
  create(input: { source: JobSource; name: string; fps: number; expectedSubjectId?: string; rules?: RuleThresholds }): Promise<{ info: JobInfo; videoPath: string }>;
  setBytes(jobId: string, bytes: number): void;
  /** The video is all there: probe it and queue the job (throws not_video, too_long). */
  mediaReady(jobId: string, bytes: number): Promise<JobInfo>;
  mediaFailed(jobId: string, err: LookoutError): Promise<void>;
  get(jobId: string): Promise<JobInfo | undefined>;
  list(): Promise<JobInfo[]>;
  cancel(jobId: string): Promise<JobInfo>;
  remove(jobId: string): Promise<void>;
  videoFile(jobId: string): string | undefined;
}

export interface JobIntakeOptions {
  jobs: JobsPort;
  /** Where URL jobs may download from (JOB_URL_ALLOW_HOSTS over the webhooks' rules). */
  policy: DestinationPolicy;
  /** JOB_MAX_BYTES: uploads and downloads are refused past it while they are read. */
  maxBytes: number;
  /** JOB_FETCH_TIMEOUT_MS: a download not finished by then fails. */
  fetchTimeoutMs: number;
  log: Logger;
}

/**
 * How a job's video gets onto this gateway's disk: an upload streamed from the request,
 * or a download from a URL in the background. Everything is checked before a job is made
 * (type, declared size, options; the URL's destination), so a refused request leaves no
 * job; a failure once it exists fails the job (mediaFailed) with its file erased.
 */
export class JobIntake {
  /** Downloads in progress, by job: cancel, delete and close abort them. */
  private readonly downloads = new Map<string, AbortController>();

  constructor(private readonly o: JobIntakeOptions) {}

  get jobs(): JobsPort {
    return this.o.jobs;
  }

  /** `POST /jobs` with the video as the body: answers once it is all on disk and probed. */
  async upload(req: Request): Promise<JobInfo> {
    let created: Awaited<ReturnType<JobsPort['create']>>;
    try {
      const query = uploadOptions(jobUploadQuery.parse(req.query));
      checkUploadHeaders(req, { maxBytes: this.o.maxBytes });
      const fileName = uploadFileName(req);
      const source: JobSource = { kind: 'upload', ...(fileName ? { fileName } : {}) };
      created = await this.o.jobs.create({ source, name: query.name ?? fileName?.slice(0, 200) ?? 'upload', fps: query.fps, ...(query.expectedSubjectId ? { expectedSubjectId: query.expectedSubjectId } : {}) });
    } catch (err) {
      // Refused before a byte is read: the body stays unread (no job was made).
      closeAfterAnswer(req);
      throw err;
    }
    const { info, videoPath } = created;
    let bytes: number;
    try {
      bytes = await streamBodyToFile(req, videoPath, { maxBytes: this.o.maxBytes }, (n) => this.o.jobs.setBytes(info.jobId, n));
    } catch (err) {
      await this.fail(info.jobId, asLookoutError(err, 'bad_request'));
      throw err;
    }
    try {
      return await this.o.jobs.mediaReady(info.jobId, bytes);
    } catch (err) {
      // Probe refusals are recorded by mediaReady; another (cancelled meanwhile) still leaves the file to erase.
      await this.fail(info.jobId, asLookoutError(err, 'unavailable'));
      throw err;
    }
  }

  /** `POST /jobs` with `{url}`: the destination is checked now, the download runs after the answer (status fetching). */
  async fromUrl(body: JobCreateUrl): Promise<JobInfo> {
    const url = await this.o.policy.checkUrl(body.url);
    const { info, videoPath } = await this.o.jobs.create({
      source: { kind: 'url', url: url.href },
      name: body.name ?? urlName(url),
      fps: body.fps ?? JOB_FPS.default,
      ...(body.expectedSubjectId ? { expectedSubjectId: body.expectedSubjectId } : {}),
      ...(body.rules ? { rules: body.rules } : {}),
    });
    void this.download(info.jobId, url.href, videoPath);
    return info;
  }

  async cancel(jobId: string): Promise<JobInfo> {
    this.abort(jobId, 'cancelled');
    return this.o.jobs.cancel(jobId);
  }

  async remove(jobId: string): Promise<void> {
    this.abort(jobId, 'deleted');
    await this.o.jobs.remove(jobId);
  }

  /** Stops every download (the gateway is stopping): their jobs stay as they are, for the engine to settle. */
  close(): void {
    for (const id of [...this.downloads.keys()]) this.abort(id, 'the gateway is stopping');
  }

  private async download(jobId: string, url: string, file: string): Promise<void> {
    const ctl = new AbortController();
    this.downloads.set(jobId, ctl);
    try {
      const bytes = await fetchToFile(url, file, { policy: this.o.policy, maxBytes: this.o.maxBytes, timeoutMs: this.o.fetchTimeoutMs, signal: ctl.signal, onBytes: (n) => this.o.jobs.setBytes(jobId, n) });
      this.downloads.delete(jobId);
      await this.o.jobs.mediaReady(jobId, bytes);
    } catch (err) {
      this.downloads.delete(jobId);
      // Aborted: whoever aborted it has settled the job (cancelled, deleted) or leaves it to the engine (stopping).
      if (ctl.signal.aborted) return;
      // mediaReady's own refusals (not_video, too_long) are recorded by it; a download's failure is recorded here.
      if (err instanceof LookoutError && (err.code === 'not_video' || err.code === 'too_long')) return;
      await this.fail(jobId, asLookoutError(err, 'fetch_failed'));
    }
  }

  private abort(jobId: string, why: string): void {
    const ctl = this.downloads.get(jobId);
    this.downloads.delete(jobId);
    ctl?.abort(new LookoutError('fetch_failed', `url: download stopped (${why})`, 'url'));
  }

  /** Records a failure of the media on the job; one that cannot be recorded is logged (the caller's error matters more). */
  private async fail(jobId: string, err: LookoutError): Promise<void> {
    await this.o.jobs.mediaFailed(jobId, err).catch((e: unknown) => this.o.log.warn({ err: e, jobId }, 'could not record the failure of a job\'s video'));
  }
}

/** What a job records as its error (JobInfo.error is an ErrorBody): a LookoutError as it is, anything else under `code`. */
function asLookoutError(err: unknown, code: 'bad_request' | 'unavailable' | 'fetch_failed'): LookoutError {
  return err instanceof LookoutError ? err : new LookoutError(code, (err as Error)?.message || String(err));
}

/** The upload's query, checked: a fps in bounds (default 5). */
function uploadOptions(q: JobUploadQuery): { name?: string; fps: number; expectedSubjectId?: string } {
  const fps = q.fps === undefined || q.fps === '' ? JOB_FPS.default : Number(q.fps);
  if (!Number.isFinite(fps) || fps < JOB_FPS.min || fps > JOB_FPS.max) throw new LookoutError('invalid_request', `fps: expected a number from ${JOB_FPS.min} to ${JOB_FPS.max}`, 'fps');
  return { ...(q.name ? { name: q.name } : {}), fps, ...(q.expectedSubjectId ? { expectedSubjectId: q.expectedSubjectId } : {}) };
}

/**
 * The uploaded file's name: `X-File-Name` (URI-encoded UTF-8, as a header carries Latin-1
 * only) or `Content-Disposition`'s `filename*=UTF-8''…` or `filename="…"`. Only the last
 * path segment, no control characters, at most 255 characters; none if absent or unusable.
 */
export function uploadFileName(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers['x-file-name'];
  let raw: string | undefined;
  if (typeof header === 'string') raw = decode(header);
  else {
    const cd = req.headers['content-disposition'] ?? '';
    const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(cd);
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/i.exec(cd);
    raw = star ? decode(star[1]!.trim()) : plain ? (plain[1]?.replace(/\\(.)/g, '$1') ?? plain[2]!.trim()) : undefined;
  }
  // eslint-disable-next-line no-control-regex
  const name = raw === undefined ? '' : path.posix.basename(raw.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return name && name !== '.' && name !== '..' ? name.slice(0, 255) : undefined;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** A URL job's default name: the last path segment, else the host. */
function urlName(url: URL): string {
  const last = decode(url.pathname.split('/').filter(Boolean).pop() ?? '');
  return (last || url.host).slice(0, 200);
}
