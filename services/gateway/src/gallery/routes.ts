import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Request } from 'express';
import {
  EnrollJob,
  GalleryDeleteReply,
  GalleryEnrollReply,
  GalleryNegativeCreate,
  GallerySubjectList,
  GallerySubjectReply,
  GallerySubjectUpdate,
  IdentifyResult,
  isId,
  LookoutError,
  galleryEnrollFields,
  type GallerySubjectUpdate as Update,
} from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import { readUpload } from '../http/multipart.js';
import { readRawBody } from '../http/raw-body.js';
import type { GalleryService } from './service.js';

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

/** Gallery admin over reid and batch enrollment jobs (admin only), and single-image analysis. */
export function registerGalleryRoutes(api: ApiRouter, gallery: GalleryService): void {
  // Declared first, as before the gallery's, so /openapi.json and /docs keep their order.
  registerAnalyzeRoute(api, gallery);
  registerEnrollRoutes(api, gallery);
  registerSubjectRoutes(api, gallery);
  registerJobRoutes(api, gallery);
}

function registerEnrollRoutes(api: ApiRouter, gallery: GalleryService): void {
  const images = (req: Request, fields: readonly string[]) =>
    readUpload(req, { fields, file: { field: 'images', maxFiles: MAX_IMAGES, maxBytes: gallery.imageLimitBytes }, maxBodyBytes: gallery.uploadLimitBytes });

  api.route(
    { method: 'post', path: '/gallery/subjects', tag, summary: 'Enroll a person: `name`, optional `subjectId` and `metadata` (JSON), and `images`', access: 'admin', upload: { contentType: 'multipart/form-data', description: IMAGES_DOC }, response: GalleryEnrollReply, status: 201 },
    async (req) => {
      const upload = await images(req, ['name', 'subjectId', 'metadata']);
      return gallery.enroll({ mode: 'enroll', ...enrollFields(upload.fields) }, upload.files);
    },
  );

  api.route(
    { method: 'post', path: '/gallery/subjects/:subject/images', tag, summary: 'Add face images to a subject', access: 'admin', upload: { contentType: 'multipart/form-data', description: IMAGES_DOC }, response: GalleryEnrollReply },
    async (req) => gallery.enroll({ mode: 'add', subjectId: String(req.params.subject) }, (await images(req, [])).files),
  );
}

function registerSubjectRoutes(api: ApiRouter, gallery: GalleryService): void {
  api.route({ method: 'get', path: '/gallery/subjects', tag, summary: 'List subjects (`?offset=`, `?limit=` up to 1000)', access: 'admin', response: GallerySubjectList }, async (req) => {
    const offset = queryInt(req, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = queryInt(req, 'limit', 1, MAX_PAGE, DEFAULT_PAGE);
    const r = await gallery.list(offset, limit);
    return { subjects: r.subjects, total: r.total, offset, limit };
  });

  api.route({ method: 'get', path: '/gallery/subjects/:subject', tag, summary: 'A subject', access: 'admin', response: GallerySubjectReply }, async (req) => ({
    subject: (await gallery.get(String(req.params.subject))).subject,
  }));

  api.route({ method: 'patch', path: '/gallery/subjects/:subject', tag, summary: 'Rename a subject (and replace its metadata)', access: 'admin', body: GallerySubjectUpdate, response: GallerySubjectReply }, async (req) => ({
    subject: (await gallery.rename({ subjectId: String(req.params.subject), ...(req.body as Update) })).subject,
  }));

  api.route({ method: 'delete', path: '/gallery/subjects/:subject', tag, summary: 'Delete a subject and its embeddings (purged, no history kept)', access: 'admin', response: GalleryDeleteReply }, async (req) => ({
    subjectId: (await gallery.remove(String(req.params.subject))).subjectId,
  }));

  api.route(
    { method: 'post', path: '/gallery/subjects/:subject/negatives', tag, summary: '"Not this subject": a face (ref from an alert or recognition) that must not match it', access: 'admin', body: GalleryNegativeCreate, response: GallerySubjectReply },
    async (req) => ({ subject: (await gallery.negative(String(req.params.subject), (req.body as { faceRef: string }).faceRef)).subject }),
  );
}

/** Batch enrollment: the upload goes to a temp folder, the job runs in the background. */
function registerJobRoutes(api: ApiRouter, gallery: GalleryService): void {
  api.route(
    { method: 'post', path: '/gallery/jobs', tag, summary: 'Batch enrollment from a ZIP; poll GET /gallery/jobs/{job} for progress and per-file results', access: 'admin', upload: { contentType: 'multipart/form-data', description: ZIP_DOC }, response: EnrollJob, status: 202 },
    async (req) => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lookout-enroll-'));
      try {
        const upload = await readUpload(req, { fields: [], file: { field: 'zip', maxFiles: 1, maxBytes: gallery.uploadLimitBytes, toDir: dir }, maxBodyBytes: gallery.uploadLimitBytes });
        const zip = upload.files[0];
        if (!zip?.path) throw new LookoutError('invalid_request', 'zip: a ZIP file is required', 'zip');
        return await gallery.submitJob(zip.path, dir);
      } catch (err) {
        await fs.rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
  );

  api.route({ method: 'get', path: '/gallery/jobs/:job', tag, summary: 'A batch enrollment job: status, progress and per-file results', access: 'admin', response: EnrollJob }, (req) => gallery.job(String(req.params.job)));
}

/**
 * Single-image analysis: POST a JPEG or PNG, get the detector + reid result (reid's
 * `gallery.identify`). Admin only: every face is matched against the gallery, so a room
 * token here would be a search of the gallery with any photo (issue 17). The credential is
 * checked before a byte of the body is read, and the body is refused at the size one
 * identify request can carry (GalleryService.identifyLimitBytes), not at the upload limit.
 */
function registerAnalyzeRoute(api: ApiRouter, gallery: GalleryService): void {
  api.route(
    {
      method: 'post',
      path: '/analyze',
      tag: 'analysis',
      summary: 'Analyse one image: faces, landmarks, pose, eyes, expression, liveness, text, and identities from the gallery',
      access: 'admin',
      accessNote: 'admin (identification searches the gallery)',
      denied: 'analyze: identification against the gallery needs an admin API key; room tokens may not use it',
      upload: {
        contentType: 'image/jpeg',
        description:
          'The image itself (image/jpeg or image/png), at most what one identify request carries over NATS (base64, under the NATS max payload) and the detector takes (FRAME_LIMITS.maxBytes): about 3 MiB with a 4 MB max payload; larger is 413 before it is read. `?room=` applies that room\'s analysis config',
      },
      response: IdentifyResult,
    },
    async (req) => {
      const room = req.query.room;
      if (room !== undefined && !isId(room)) throw new LookoutError('invalid_request', 'room: invalid id', 'room');
      const limitBytes = gallery.identifyLimitBytes;
      const body = await readRawBody(req, { types: ['image/jpeg', 'image/png'], limitBytes, limitReason: 'the largest image one identify request carries through NATS to the detector' });
      if (body.data.length === 0) throw new LookoutError('invalid_request', 'body: empty; send the image as image/jpeg or image/png');
      return gallery.identify(body.data, room);
    },
  );
}

/** Form fields of an enrollment; blank optional fields (as HTML forms send them) count as absent. */
function enrollFields(form: Record<string, string>): { name: string; subjectId?: string; metadata?: Record<string, string | number | boolean> } {
  const fields: Record<string, unknown> = { name: form.name ?? '' };
  if (form.subjectId) fields.subjectId = form.subjectId;
  if (form.metadata?.trim()) {
    try {
      fields.metadata = JSON.parse(form.metadata);
    } catch {
      throw new LookoutError('invalid_json', 'metadata: not valid JSON (send an object of strings, numbers and booleans)', 'metadata');
    }
  }
  return galleryEnrollFields.parse(fields);
}

function queryInt(req: Request, name: string, min: number, max: number, fallback: number): number {
  const raw = req.query[name];
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new LookoutError('invalid_request', `${name}: expected an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}`, name);
  return n;
}
