import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { LookoutError, rpc, type GalleryReply, type GalleryRequest, type ImageResult } from '@lookout/contracts';
import { decodeVector, dot, encodeVector } from '../embedding/vector-codec.js';
import type { Enrollment, UsableFace } from './enrollment.js';
import { dropStaleIndex, eraseKey, type KvStream, type Logger, type Responder, type RpcServer } from '@lookout/service-kit';
import type { EventEraser } from './erasure.js';
import type { GalleryIndex } from './gallery-index.js';
import { summarize, type GalleryRecord, type StoredVector } from './gallery-record.js';
import type { GalleryStore } from './gallery-store.js';
import type { ImageIdentifier } from './identify.js';

export interface GalleryServiceOptions {
  store: GalleryStore;
  index: GalleryIndex;
  enrollment: Enrollment;
  identifier: ImageIdentifier;
  faceRefs: KV;
  cooldowns: { kv: KV; stored: KvStream };
  /** Erasing a subject: secure deletes need the stream API. */
  jsm: JetStreamManager;
  events: EventEraser;
  /** How long a delete waits, after every replica was told, before it looks for events naming the subject. */
  eraseGraceMs: number;
  keepImages: boolean;
  maxEmbeddings: number;
  log: Logger;
}

const DUPLICATE_SIMILARITY = 0.995;
const MAX_NEGATIVES = 200;
const CATCH_UP_MS = 2000;

/**
 * The gallery operations (`rpc.gallery`, any replica). Replies are sent once the KV write
 * is acknowledged, and once this replica's index shows it, so "enroll, then analyse" works
 * on the next request. Failures are LookoutErrors, answered by service-kit's RpcServer.
 */
export class GalleryService {
  constructor(private readonly o: GalleryServiceOptions) {}

  /** Answers every gallery operation through `server` until the responder is stopped. */
  serve(server: RpcServer): Responder {
    return server.serveAll(rpc.gallery, {
      enroll: (req) => this.enroll(req),
      add_images: (req) => this.addImages(req),
      rename: (req) => this.rename(req),
      delete: (req) => this.remove(req),
      list: (req) => this.list(req),
      get: (req) => this.get(req),
      negative: (req) => this.negative(req),
      identify: (req) => this.o.identifier.identify(req),
    });
  }

  private async enroll(req: GalleryRequest<'enroll'>): Promise<GalleryReply<'enroll'>> {
    const subjectId = req.subjectId ?? `s_${randomBytes(9).toString('base64url')}`;
    if (await this.o.store.get(subjectId)) throw new LookoutError('exists', `subjectId: ${subjectId} already exists`, 'subjectId');
    const { results, usable } = await this.o.enrollment.process(req.images);
    this.refuseOthersFace(usable, results);
    const now = Date.now();
    const embeddings = this.accept(usable, results, [], now);
    if (!embeddings.length) throw noUsableImage('images: no image has exactly one usable face', 'images', results);
    const record: GalleryRecord = { v: 1, subjectId, ref: randomBytes(16).toString('base64url'), name: req.name, metadata: req.metadata ?? {}, createdMs: now, updatedMs: now, embeddings, negatives: [] };
    const revision = await this.o.store.create(record);
    await this.catchUp(subjectId, revision);
    return { subject: summarize(record), images: results };
  }

  private async addImages(req: GalleryRequest<'add_images'>): Promise<GalleryReply<'add_images'>> {
    if (!(await this.o.store.get(req.subjectId))) throw notFound(req.subjectId);
    const { results, usable } = await this.o.enrollment.process(req.images);
    if (!usable.length) throw noUsableImage('images: no image has exactly one usable face', 'images', results);
    this.refuseOthersFace(usable, results, req.subjectId);
    // Results are recomputed on every CAS attempt: duplicates depend on what the record holds.
    let final = results;
    const written = await this.o.store.update(req.subjectId, (r) => {
      final = structuredClone(results);
      const added = this.accept(usable, final, r.embeddings, Date.now());
      if (!added.length) throw noUsableImage('images: every usable image was a duplicate or over the limit', 'images', final);
      return { ...r, embeddings: [...r.embeddings, ...added], updatedMs: Date.now() };
    });
    await this.catchUp(req.subjectId, written.revision);
    return { subject: summarize(written.record), images: final };
  }

  /**
   * One face enrolled under two subjects splits that person's matches between them, and
   * neither wins by the margin, so the live stream shows someone well known as unknown. A
   * face that matches another subject (at the accept threshold) is refused, naming it.
   */
  private refuseOthersFace(usable: UsableFace[], results: ImageResult[], self?: string): void {
    for (const u of usable) {
      const other = this.o.index.closestOther(u.embedding, self);
      if (!other || other.similarity < this.o.index.acceptSimilarity) continue;
      throw new LookoutError(
        'face_enrolled',
        `images/${u.index}: this face is already enrolled as subject ${other.subjectId} (similarity ${other.similarity} ≥ ${this.o.index.acceptSimilarity}); add the image to that subject, or delete it first`,
        `images/${u.index}`,
        { subjectId: other.subjectId, similarity: other.similarity, images: results },
      );
    }
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

  private async rename(req: GalleryRequest<'rename'>): Promise<GalleryReply<'rename'>> {
    const written = await this.o.store.update(req.subjectId, (r) => ({ ...r, name: req.name, metadata: req.metadata ?? r.metadata, updatedMs: Date.now() }));
    await this.catchUp(req.subjectId, written.revision);
    return { subject: summarize(written.record) };
  }

  /**
   * Erasure, not a soft delete (docs/gallery.md): every revision of the
   * record is erased and a tombstone tells every replica to drop the subject; then, after
   * the replicas had time to stop naming it, the events and face refs naming it and its
   * recognition cooldowns are erased. The stream state names it only by its ref, which
   * means nothing once the record is gone. Nothing here logs the subject.
   */
  private async remove(req: GalleryRequest<'delete'>): Promise<GalleryReply<'delete'>> {
    const removed = await this.o.store.remove(req.subjectId);
    if (!removed) throw notFound(req.subjectId);
    await this.catchUpTo(removed.tombstone);
    await new Promise((r) => setTimeout(r, this.o.eraseGraceMs));
    // Cooldown keys are `<room>.<ref>` (`<room>.<subject id>` before refs). Listed whole and
    // matched here: a listing filtered on the id would leave it in a consumer's config file.
    let cooldowns = 0;
    const keys: string[] = [];
    for await (const key of await this.o.cooldowns.kv.keys()) {
      const who = key.slice(key.indexOf('.') + 1);
      if (who === removed.ref || who === req.subjectId) keys.push(key);
    }
    for (const key of keys) cooldowns += await eraseKey(this.o.jsm, this.o.cooldowns.stored, key);
    if (keys.some((k) => k.endsWith(`.${req.subjectId}`))) await dropStaleIndex(this.o.jsm, this.o.cooldowns.stored.stream).catch(() => undefined);
    const erased = await this.o.events.eraseSubject(req.subjectId);
    this.o.log.info({ ...erased, cooldowns }, 'erased a gallery subject');
    return { subjectId: req.subjectId };
  }

  private list(req: GalleryRequest<'list'>): GalleryReply<'list'> {
    const all = this.o.index.summaries();
    const offset = req.offset ?? 0;
    return { subjects: all.slice(offset, offset + (req.limit ?? 100)), total: all.length };
  }

  private async get(req: GalleryRequest<'get'>): Promise<GalleryReply<'get'>> {
    const cur = await this.o.store.get(req.subjectId);
    if (!cur) throw notFound(req.subjectId);
    return { subject: summarize(cur.record) };
  }

  private async negative(req: GalleryRequest<'negative'>): Promise<GalleryReply<'negative'>> {
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
      if (!e || e.operation !== 'PUT') throw new LookoutError('not_found', `faceRef: unknown or expired face ${req.faceRef}`, 'faceRef');
      return decodeVector(e.string());
    }
    if (req.image === undefined) throw new LookoutError('invalid_request', 'faceRef: give faceRef or image', 'faceRef');
    const { results, usable } = await this.o.enrollment.process([req.image]);
    const face = usable[0];
    if (!face) throw noUsableImage(results[0]?.error?.message ?? 'image: no usable face', 'image', results);
    return face.embedding;
  }

  private async catchUpTo(revision: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.o.index.caughtUpTo(revision), new Promise((r) => (timer = setTimeout(r, CATCH_UP_MS)))]);
    clearTimeout(timer);
  }

  private async catchUp(subjectId: string, revision: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.o.index.caughtUp(subjectId, revision), new Promise((r) => (timer = setTimeout(r, CATCH_UP_MS)))]);
    clearTimeout(timer);
  }

}

function notFound(subjectId: string): LookoutError {
  return new LookoutError('not_found', `subjectId: no subject ${subjectId}`, 'subjectId');
}

/** No image could be used: the verdict on each travels in `details.images`. */
function noUsableImage(message: string, field: string, images: ImageResult[]): LookoutError {
  return new LookoutError('no_usable_image', message, field, { images });
}
