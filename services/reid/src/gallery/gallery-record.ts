import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Id, validator, type SubjectSummary } from '@lookout/contracts';

/**
 * One gallery subject as stored in KV bucket `lookout_gallery` (key = subject id).
 * Vectors are base64 Float32 (vector-codec.ts). Face crops are stored only when
 * KEEP_IMAGES is on.
 */
const StoredVector = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  vector: Type.String(),
  createdMs: Type.Integer({ minimum: 0 }),
  crop: Type.Optional(Type.String({ description: 'Aligned 112×112 JPEG, base64 (KEEP_IMAGES only)' })),
  source: Type.Optional(Type.String({ description: 'Where a negative came from (face ref)' })),
});
export type StoredVector = Static<typeof StoredVector>;

export const GalleryRecord = Type.Object({
  v: Type.Literal(1),
  subjectId: Id,
  /**
   * The subject's pseudonym: random, made at enrollment, kept nowhere but here. The stream
   * state and the recognition cooldowns name the subject by it (never by id or name), so
   * erasing this record leaves them naming nobody. Absent in records written before.
   */
  ref: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' })),
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  createdMs: Type.Integer({ minimum: 0 }),
  updatedMs: Type.Integer({ minimum: 0 }),
  embeddings: Type.Array(StoredVector),
  negatives: Type.Array(StoredVector),
});
export type GalleryRecord = Static<typeof GalleryRecord>;
export const galleryRecord = validator('gallery record', GalleryRecord);

/**
 * The record's ref; a record from before refs gets one derived from values that are erased
 * with it (its id, creation time and first embedding's random id), so every replica
 * agrees on it without a write.
 */
export function subjectRef(r: GalleryRecord): string {
  if (r.ref) return r.ref;
  return createHash('sha256').update(`lookout-subject-ref\0${r.subjectId}\0${r.createdMs}\0${r.embeddings[0]?.id ?? ''}`).digest('base64url').slice(0, 22);
}

export function summarize(r: GalleryRecord): SubjectSummary {
  return {
    subjectId: r.subjectId,
    name: r.name,
    metadata: r.metadata,
    embeddings: r.embeddings.length,
    negatives: r.negatives.length,
    imagesKept: r.embeddings.filter((e) => e.crop !== undefined).length,
    createdMs: r.createdMs,
    updatedMs: r.updatedMs,
  };
}
