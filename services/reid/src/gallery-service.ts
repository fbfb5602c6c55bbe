import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  GALLERY_OPS,
  galleryRequest,
  queueGroups,
  subjects,
  ValidationError,
  type GalleryError,
  type GalleryOp,
  type GalleryRequest,
  type ImageResult,
} from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import { DetectorUnavailableError } from './detector-client.js';
import type { Enrollment, UsableFace } from './enrollment.js';
import { ImageRejectedError, type ImageIdentifier } from './identify.js';
import type { GalleryIndex } from './gallery-index.js';
import { summarize, type GalleryRecord, type StoredVector } from './gallery-record.js';
import { GalleryStoreError, type GalleryStore } from './gallery-store.js';
import { decodeVector, dot, encodeVector } from './vector-codec.js';

export interface GalleryServiceOptions {
  nc: NatsConnection;
  log: Logger;
  store: GalleryStore;
  index: GalleryIndex;
  enrollment: Enrollment;
  identifier: ImageIdentifier;
  faceRefs: KV;
  cooldowns: KV;
  keepImages: boolean;
  maxEmbeddings: number;
  badMessages: Counter<'subject_kind' | 'reason'>;
}

/** An error reply: thrown inside an op, turned into `{ ok: false, error }`. */
class OpError extends Error {
  constructor(readonly error: GalleryError) {
    super(error.message);
  }
}

const DUPLICATE_SIMILARITY = 0.995;
const MAX_NEGATIVES = 200;
const CATCH_UP_MS = 2000;

/**
 * `gallery.<op>` request/reply (queue group reid). Replies are sent once the KV write is
 * acknowledged, and once this replica's index shows it, so "enroll, then analyse" works
 * on the next request.
 */
export class GalleryService {
  private sub: Subscription | undefined;

  constructor(private readonly o: GalleryServiceOptions) {}

  start(): void {
    this.sub = this.o.nc.subscribe(subjects.galleryAll(), {
      queue: queueGroups.reid,
      callback: (err, msg) => {
        if (err) return this.o.log.error({ err }, 'gallery subscription error');
        void this.handle(msg);
      },
    });
  }

  private async handle(msg: Msg): Promise<void> {
    const op = msg.subject.slice('gallery.'.length) as GalleryOp;
    let reply: unknown;
    try {
      if (!GALLERY_OPS.includes(op)) throw new OpError({ code: 'unknown_op', message: `op: unknown gallery operation "${op}"; one of ${GALLERY_OPS.join(', ')}` });
      reply = { ok: true, ...(await this.run(op, parseRequest(op, msg.data))) };
    } catch (err) {
      reply = { ok: false, error: this.toError(err, op) };
    }
    msg.respond(JSON.stringify(reply));
  }

  private toError(err: unknown, op: string): GalleryError {
    if (err instanceof OpError) return err.error;
    if (err instanceof ValidationError) {
      this.o.badMessages.inc({ subject_kind: 'gallery', reason: 'invalid' });
      return { code: 'invalid_request', message: err.message, field: err.field };
    }
    if (err instanceof GalleryStoreError) return { code: err.code, message: err.message, field: 'subjectId' };
    if (err instanceof DetectorUnavailableError) return { code: 'unavailable', message: err.message };
    if (err instanceof ImageRejectedError) return { code: err.code, message: err.message, field: 'image' };
    this.o.log.error({ err, op }, 'gallery operation failed');
    return { code: 'internal', message: `gallery.${op} failed` };
  }

  private run(op: GalleryOp, req: unknown): Promise<object> {
    switch (op) {
      case 'enroll':
        return this.enroll(req as GalleryRequest<'enroll'>);
      case 'add_images':
        return this.addImages(req as GalleryRequest<'add_images'>);
      case 'rename':
        return this.rename(req as GalleryRequest<'rename'>);
      case 'delete':
        return this.remove(req as GalleryRequest<'delete'>);
      case 'list':
        return this.list(req as GalleryRequest<'list'>);
      case 'get':
        return this.get(req as GalleryRequest<'get'>);
      case 'negative':
        return this.negative(req as GalleryRequest<'negative'>);
      case 'identify':
        return this.o.identifier.identify(req as GalleryRequest<'identify'>);
    }
  }

  private async enroll(req: GalleryRequest<'enroll'>): Promise<object> {
    const subjectId = req.subjectId ?? `s_${randomBytes(9).toString('base64url')}`;
    if (await this.o.store.get(subjectId)) throw new OpError({ code: 'exists', message: `subjectId: ${subjectId} already exists`, field: 'subjectId' });
    const { results, usable } = await this.o.enrollment.process(req.images);
    const now = Date.now();
    const embeddings = this.accept(usable, results, [], now);
    if (!embeddings.length) throw new OpError({ code: 'no_usable_image', message: 'images: no image has exactly one usable face', field: 'images', images: results });
    const record: GalleryRecord = { v: 1, subjectId, name: req.name, metadata: req.metadata ?? {}, createdMs: now, updatedMs: now, embeddings, negatives: [] };
    const revision = await this.o.store.create(record);
    await this.catchUp(subjectId, revision);
    return { subject: summarize(record), images: results };
  }

  private async addImages(req: GalleryRequest<'add_images'>): Promise<object> {
    if (!(await this.o.store.get(req.subjectId))) throw notFound(req.subjectId);
    const { results, usable } = await this.o.enrollment.process(req.images);
    if (!usable.length) throw new OpError({ code: 'no_usable_image', message: 'images: no image has exactly one usable face', field: 'images', images: results });
    // Results are recomputed on every CAS attempt: duplicates depend on what the record holds.
    let final = results;
    const written = await this.o.store.update(req.subjectId, (r) => {
      final = structuredClone(results);
      const added = this.accept(usable, final, r.embeddings, Date.now());
      if (!added.length) throw new OpError({ code: 'no_usable_image', message: 'images: every usable image was a duplicate or over the limit', field: 'images', images: final });
      return { ...r, embeddings: [...r.embeddings, ...added], updatedMs: Date.now() };
    });
    await this.catchUp(req.subjectId, written.revision);
    return { subject: summarize(written.record), images: final };
  }

  /**
   * Usable faces → stored vectors, skipping near-duplicates of what the subject has and
   * anything over the per-subject limit (both reported in `results`).
   */
  private accept(usable: UsableFace[], results: ImageResult[], existing: StoredVector[], now: number): StoredVector[] {
    const kept = existing.map((e) => decodeVector(e.vector));
    const out: StoredVector[] = [];
    for (const u of usable) {
      const result = results[u.index]!;
      if (kept.some((k) => dot(k, u.embedding) >= DUPLICATE_SIMILARITY)) {
        Object.assign(result, { ok: false, error: { code: 'duplicate', message: `images/${u.index}: the same face image is already enrolled` } });
      } else if (existing.length + out.length >= this.o.maxEmbeddings) {
        Object.assign(result, { ok: false, error: { code: 'duplicate', message: `images/${u.index}: the subject already has ${this.o.maxEmbeddings} images (the limit)` } });
      } else {
        const id = randomBytes(6).toString('base64url');
        out.push({ id, vector: encodeVector(u.embedding), createdMs: now, ...(this.o.keepImages ? { crop: u.crop } : {}) });
        kept.push(u.embedding);
        result.embeddingId = id;
      }
    }
    return out;
  }

  private async rename(req: GalleryRequest<'rename'>): Promise<object> {
    const written = await this.o.store.update(req.subjectId, (r) => ({ ...r, name: req.name, metadata: req.metadata ?? r.metadata, updatedMs: Date.now() }));
    await this.catchUp(req.subjectId, written.revision);
    return { subject: summarize(written.record) };
  }

  /** Purges the record (embeddings and history) and the subject's recognition cooldowns. */
  private async remove(req: GalleryRequest<'delete'>): Promise<object> {
    if (!(await this.o.store.purge(req.subjectId))) throw notFound(req.subjectId);
    for await (const key of await this.o.cooldowns.keys(`*.${req.subjectId}`)) await this.o.cooldowns.purge(key);
    return { subjectId: req.subjectId };
  }

  private async list(req: GalleryRequest<'list'>): Promise<object> {
    const all = this.o.index.summaries();
    const offset = req.offset ?? 0;
    return { subjects: all.slice(offset, offset + (req.limit ?? 100)), total: all.length };
  }

  private async get(req: GalleryRequest<'get'>): Promise<object> {
    const cur = await this.o.store.get(req.subjectId);
    if (!cur) throw notFound(req.subjectId);
    return { subject: summarize(cur.record) };
  }

  private async negative(req: GalleryRequest<'negative'>): Promise<object> {
    const vector = await this.negativeVector(req);
    const written = await this.o.store.update(req.subjectId, (r) => {
      const n: StoredVector = { id: randomBytes(6).toString('base64url'), vector: encodeVector(vector), createdMs: Date.now(), ...(req.faceRef ? { source: req.faceRef } : {}) };
      return { ...r, negatives: [...r.negatives, n].slice(-MAX_NEGATIVES), updatedMs: Date.now() };
    });
    await this.catchUp(req.subjectId, written.revision);
    return { subject: summarize(written.record) };
  }

  private async negativeVector(req: GalleryRequest<'negative'>): Promise<Float32Array> {
    if (!(await this.o.store.get(req.subjectId))) throw notFound(req.subjectId);
    if (req.faceRef !== undefined) {
      const e = await this.o.faceRefs.get(req.faceRef).catch(() => null);
      if (!e || e.operation !== 'PUT') throw new OpError({ code: 'not_found', message: `faceRef: unknown or expired face ${req.faceRef}`, field: 'faceRef' });
      return decodeVector(e.string());
    }
    if (req.image === undefined) throw new OpError({ code: 'invalid_request', message: 'faceRef: give faceRef or image', field: 'faceRef' });
    const { results, usable } = await this.o.enrollment.process([req.image]);
    const face = usable[0];
    if (!face) throw new OpError({ code: 'no_usable_image', message: results[0]?.error?.message ?? 'image: no usable face', field: 'image', images: results });
    return face.embedding;
  }

  private async catchUp(subjectId: string, revision: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.o.index.caughtUp(subjectId, revision), new Promise((r) => (timer = setTimeout(r, CATCH_UP_MS)))]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) await this.sub.drain();
  }
}

function notFound(subjectId: string): OpError {
  return new OpError({ code: 'not_found', message: `subjectId: no subject ${subjectId}`, field: 'subjectId' });
}

function parseRequest(op: GalleryOp, data: Uint8Array): unknown {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new OpError({ code: 'invalid_request', message: 'body: not valid JSON' });
  }
  return galleryRequest[op].parse(body);
}
