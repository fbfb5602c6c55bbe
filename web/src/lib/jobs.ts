import { API_PREFIX, type JobCreateUrl, type JobInfo, type JobList } from '@lookout/contracts';
import { api } from './api';
import { credential } from './auth';
import { uploadQuery } from './job-progress';
import { uploadBody, type UploadProgress } from './upload';

/** The REST calls of recording jobs (`/jobs`, docs/gateway.md); errors are HttpError. */

export interface JobOptions {
  name?: string;
  /** As typed in the form ("" = the default, 5 fps). */
  fps?: string;
  expectedSubjectId?: string;
}

/**
 * Uploads a video file as the request body (not a form: the gateway streams it to disk as
 * it comes), options in the query, the file's name in `X-File-Name` (URI-encoded: a header
 * carries Latin-1 only). XMLHttpRequest, for the upload's progress.
 */
export function uploadJob(file: File, opts: JobOptions, onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<JobInfo> {
  const headers = { 'content-type': file.type || 'application/octet-stream', 'x-file-name': encodeURIComponent(file.name) };
  return uploadBody<JobInfo>(`/jobs${uploadQuery(opts)}`, file, { headers, onProgress, ...(signal ? { signal } : {}) });
}

/** Asks the gateway to download and analyse the video at `url` (202: the job starts by fetching it). */
export function createUrlJob(url: string, opts: JobOptions): Promise<JobInfo> {
  const fps = opts.fps?.trim() ? Number(opts.fps) : undefined;
  const body: JobCreateUrl = {
    url: url.trim(),
    ...(opts.name?.trim() ? { name: opts.name.trim() } : {}),
    ...(fps !== undefined ? { fps } : {}),
    ...(opts.expectedSubjectId ? { expectedSubjectId: opts.expectedSubjectId } : {}),
  };
  return api<JobInfo>('/jobs', { json: body });
}

export const getJob = (jobId: string) => api<JobInfo>(`/jobs/${encodeURIComponent(jobId)}`);
export const listJobs = () => api<JobList>('/jobs').then((r) => r.jobs);
export const cancelJob = (jobId: string) => api<JobInfo>(`/jobs/${encodeURIComponent(jobId)}/cancel`, { method: 'POST' });
export const deleteJob = (jobId: string) => api<unknown>(`/jobs/${encodeURIComponent(jobId)}`, { method: 'DELETE' });

/** The job's video for a `<video src>`: a viewer token of the job's room in the query (a media element sends no headers). */
export function jobVideoUrl(jobId: string, viewerToken: string): string {
  return `${API_PREFIX}/jobs/${encodeURIComponent(jobId)}/video?token=${encodeURIComponent(viewerToken)}`;
}

/**
 * The job's video fetched with the admin key into a blob: URL, for a gateway that does
 * not take a token in the video's query. The whole file is held in memory: a fallback.
 */
export async function fetchJobVideoBlob(jobId: string): Promise<string> {
  const auth = credential();
  const res = await fetch(`${API_PREFIX}/jobs/${encodeURIComponent(jobId)}/video`, auth ? { headers: { authorization: `Bearer ${auth}` } } : {});
  if (!res.ok) throw new Error(`the video could not be loaded (${res.status} ${res.statusText})`.replace(' )', ')'));
  return URL.createObjectURL(await res.blob());
}
