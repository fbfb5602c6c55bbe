import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Request, Response } from 'express';
import {
  EnrollJob,
  GalleryDeleteReply,
  GalleryEnrollReply,
  GalleryNegativeCreate,
  GallerySubjectList,
  GallerySubjectReply,
  GallerySubjectUpdate,
  galleryEnrollFields,
  type GalleryError,
  type GalleryOp,
  type GalleryReply,
  type GallerySubjectUpdate as Update,
} from '@lookout/contracts';
import type { GatewayDeps } from '../deps.js';
import type { ApiRouter } from '../http/api-router.js';
import { ApiError, notFound } from '../http/errors.js';
import { EnrollJobs } from '../enroll/job-runner.js';
import { JobStore } from '../enroll/job-store.js';
import { readUpload, type UploadedFile } from '../enroll/multipart.js';
import { ReidGallery, type ChunkedEnrollment, type EnrollTarget } from '../enroll/reid-gallery.js';
import { galleryError } from './gallery-errors.js';

/** Images per multipart request (reid's own per-request limit; larger sets: add more). */
const MAX_IMAGES = 20;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const tag = 'gallery';

const IMAGES_DOC = 'multipart/form-data: one or more `images` files (JPEG or PNG, at most 20; each must fit one NATS message once base64-encoded)';
const ZIP_DOC =
  'multipart/form-data with one `zip` file. Person per image: `<person>/<any>.jpg` (one folder per person) or `<person>[_<n>].jpg` at the top ' +
  '(trailing digits, `_`, `-`, spaces and parentheses dropped; `_` becomes a space). Only .jpg/.jpeg/.png with JPEG/PNG content; no `..`, absolute ' +
  'paths, backslashes or deeper folders; limits on entries (ZIP_MAX_ENTRIES), bytes per entry and in all (ZIP_MAX_ENTRY_BYTES, ZIP_MAX_TOTAL_BYTES) ' +
  'and compression ratio (ZIP_MAX_RATIO), checked on the inflated bytes. Refused entries are reported and never enrolled; a person none of whose ' +
  'images is usable is not created.';

/** Gallery admin over reid (`gallery.<op>`) and batch enrollment jobs. Admin only. */
export function registerGalleryRoutes(api: ApiRouter, d: GatewayDeps): { close(): Promise<void> } {
  const gallery = new ReidGallery(d.nc);
  registerSubjectRoutes(api, d, gallery);
  return registerJobRoutes(api, d, gallery);
}

function registerSubjectRoutes(api: ApiRouter, d: GatewayDeps, gallery: ReidGallery): void {
  const imageLimit = Math.min(d.config.uploadLimitBytes, gallery.maxImageBytes());
  const images = (req: Request, fields: readonly string[]) =>
    readUpload(req, { fields, file: { field: 'images', maxFiles: MAX_IMAGES, maxBytes: imageLimit }, maxBodyBytes: d.config.uploadLimitBytes });

  api.route(
    { method: 'post', path: '/gallery/subjects', tag, summary: 'Enroll a person: `name`, optional `subjectId` and `metadata` (JSON), and `images`', access: 'admin', upload: { contentType: 'multipart/form-data', description: IMAGES_DOC }, response: GalleryEnrollReply, status: 201 },
    async (req, res) => {
      const upload = await images(req, ['name', 'subjectId', 'metadata']);
      return sendEnrollment(res, gallery, { mode: 'enroll', ...enrollFields(upload.fields) }, upload.files);
    },
  );

  api.route(
    { method: 'post', path: '/gallery/subjects/:subject/images', tag, summary: 'Add face images to a subject', access: 'admin', upload: { contentType: 'multipart/form-data', description: IMAGES_DOC }, response: GalleryEnrollReply },
    async (req, res) => sendEnrollment(res, gallery, { mode: 'add', subjectId: String(req.params.subject) }, (await images(req, [])).files),
  );

  api.route({ method: 'get', path: '/gallery/subjects', tag, summary: 'List subjects (`?offset=`, `?limit=` up to 1000)', access: 'admin', response: GallerySubjectList }, async (req) => {
    const offset = queryInt(req, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = queryInt(req, 'limit', 1, MAX_PAGE, DEFAULT_PAGE);
    const r = await ask(gallery, 'list', { offset, limit });
    return { subjects: r.subjects, total: r.total, offset, limit };
  });

  api.route({ method: 'get', path: '/gallery/subjects/:subject', tag, summary: 'A subject', access: 'admin', response: GallerySubjectReply }, async (req) => {
    return { subject: (await ask(gallery, 'get', { subjectId: String(req.params.subject) })).subject };
  });

  api.route({ method: 'patch', path: '/gallery/subjects/:subject', tag, summary: 'Rename a subject (and replace its metadata)', access: 'admin', body: GallerySubjectUpdate, response: GallerySubjectReply }, async (req) => {
    const body = req.body as Update;
    return { subject: (await ask(gallery, 'rename', { subjectId: String(req.params.subject), ...body })).subject };
  });

  api.route({ method: 'delete', path: '/gallery/subjects/:subject', tag, summary: 'Delete a subject and its embeddings (purged, no history kept)', access: 'admin', response: GalleryDeleteReply }, async (req) => {
    return { subjectId: (await ask(gallery, 'delete', { subjectId: String(req.params.subject) })).subjectId };
  });

  api.route(
    { method: 'post', path: '/gallery/subjects/:subject/negatives', tag, summary: '"Not this subject": a face (ref from an alert or recognition) that must not match it', access: 'admin', body: GalleryNegativeCreate, response: GallerySubjectReply },
    async (req) => ({ subject: (await ask(gallery, 'negative', { subjectId: String(req.params.subject), faceRef: (req.body as { faceRef: string }).faceRef })).subject }),
  );

}

/** Batch enrollment: the upload goes to a temp folder, the job runs in the background. */
function registerJobRoutes(api: ApiRouter, d: GatewayDeps, gallery: ReidGallery): { close(): Promise<void> } {
  const { zipMaxEntries: maxEntries, zipMaxEntryBytes: maxEntryBytes, zipMaxTotalBytes: maxTotalBytes, zipMaxRatio: maxRatio } = d.config;
  const jobLog = d.log.child({ module: 'enroll-jobs' });
  const store = new JobStore(d.kv.enrollJobs, jobLog);
  const jobs = new EnrollJobs({ store, gallery, limits: { maxEntries, maxEntryBytes, maxTotalBytes, maxRatio }, log: jobLog });

  api.route(
    { method: 'post', path: '/gallery/jobs', tag, summary: 'Batch enrollment from a ZIP; poll GET /gallery/jobs/{job} for progress and per-file results', access: 'admin', upload: { contentType: 'multipart/form-data', description: ZIP_DOC }, response: EnrollJob, status: 202 },
    async (req) => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lookout-enroll-'));
      try {
        const upload = await readUpload(req, { fields: [], file: { field: 'zip', maxFiles: 1, maxBytes: d.config.uploadLimitBytes, toDir: dir }, maxBodyBytes: d.config.uploadLimitBytes });
        const zip = upload.files[0];
        if (!zip?.path) throw new ApiError(400, 'invalid_request', 'zip: a ZIP file is required', 'zip');
        return await jobs.submit(zip.path, dir);
      } catch (err) {
        await fs.rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
  );

  api.route({ method: 'get', path: '/gallery/jobs/:job', tag, summary: 'A batch enrollment job: status, progress and per-file results', access: 'admin', response: EnrollJob }, async (req) => {
    const job = await store.get(String(req.params.job));
    if (!job) throw notFound(`job: no job ${String(req.params.job)} (jobs are kept 7 days)`, 'job');
    return job;
  });

  return { close: () => jobs.close() };
}

/** One reid call: its success part, or its error as an HTTP error. */
async function ask<O extends GalleryOp>(gallery: ReidGallery, op: O, body: unknown): Promise<Extract<GalleryReply<O>, { ok: true }>> {
  const reply = await gallery.call(op, body);
  if (!reply.ok) throw galleryError((reply as { error: GalleryError }).error);
  return reply as Extract<GalleryReply<O>, { ok: true }>;
}

/** Form fields of an enrollment; blank optional fields (as HTML forms send them) count as absent. */
function enrollFields(form: Record<string, string>): { name: string; subjectId?: string; metadata?: Record<string, string | number | boolean> } {
  const fields: Record<string, unknown> = { name: form.name ?? '' };
  if (form.subjectId) fields.subjectId = form.subjectId;
  if (form.metadata?.trim()) {
    try {
      fields.metadata = JSON.parse(form.metadata);
    } catch {
      throw new ApiError(400, 'invalid_json', 'metadata: not valid JSON (send an object of strings, numbers and booleans)', 'metadata');
    }
  }
  return galleryEnrollFields.parse(fields);
}

async function sendEnrollment(res: Response, gallery: ReidGallery, target: EnrollTarget, files: UploadedFile[]): Promise<unknown> {
  if (!files.length) throw new ApiError(400, 'invalid_request', 'images: at least one image file is required', 'images');
  files.forEach((f, i) => {
    if (!gallery.fits(f.size, target)) throw new ApiError(413, 'body_too_large', `images/${i}: ${f.size} bytes do not fit one gallery request with this name and metadata`, `images/${i}`);
  });
  const r = await gallery.enrollChunked(target, files.map((f) => f.data ?? Buffer.alloc(0)));
  if (r.error) return sendFailure(res, r);
  return { subject: r.subject, images: r.images };
}

/** reid's error with its per-image verdicts (the generic error handler drops those). */
function sendFailure(res: Response, r: ChunkedEnrollment): void {
  const e = r.error!;
  const err = galleryError(e);
  const partial = r.subject ? `; subject ${r.subject.subjectId} holds the images marked ok, the others were not added` : '';
  const images = r.images.filter((i) => i !== undefined);
  res.status(err.status).json({ error: { code: err.code, message: `${err.message}${partial}`, ...(err.field ? { field: err.field } : {}), ...(images.length ? { images } : {}) } });
}

function queryInt(req: Request, name: string, min: number, max: number, fallback: number): number {
  const raw = req.query[name];
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ApiError(400, 'invalid_request', `${name}: expected an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}`, name);
  return n;
}
