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
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  createdMs: Type.Integer({ minimum: 0 }),
  updatedMs: Type.Integer({ minimum: 0 }),
  embeddings: Type.Array(StoredVector),
  negatives: Type.Array(StoredVector),
});
export type GalleryRecord = Static<typeof GalleryRecord>;
export const galleryRecord = validator('gallery record', GalleryRecord);

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
