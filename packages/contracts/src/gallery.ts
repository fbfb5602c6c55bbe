import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Id } from './ids.js';
import { AnalysedFace, StageTimings, TextInFrame } from './faces.js';

/**
 * Gallery operations, served by reid on `gallery.<op>` (see rpc.ts). Images travel
 * base64-encoded (JPEG or PNG) and the whole request must fit the NATS max payload. A
 * reply is sent only after the KV write is acknowledged by JetStream (durable);
 * `identify` writes nothing.
 */
export const GALLERY_OPS = ['enroll', 'add_images', 'rename', 'delete', 'list', 'get', 'negative', 'identify'] as const;
export type GalleryOp = (typeof GALLERY_OPS)[number];

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]), {
  description: 'Free-form key/value pairs (at most 32)',
  maxProperties: 32,
});
const ImageData = Type.String({ contentEncoding: 'base64', minLength: 1, description: 'JPEG or PNG, base64' });
const Images = Type.Array(ImageData, { minItems: 1, maxItems: 20 });

export const GalleryRequests = {
  enroll: Type.Object(
    {
      subjectId: Type.Optional(Id),
      name: Name,
      metadata: Type.Optional(Metadata),
      images: Images,
    },
    { additionalProperties: false },
  ),
  add_images: Type.Object({ subjectId: Id, images: Images }, { additionalProperties: false }),
  rename: Type.Object({ subjectId: Id, name: Name, metadata: Type.Optional(Metadata) }, { additionalProperties: false }),
  delete: Type.Object({ subjectId: Id }, { additionalProperties: false }),
  list: Type.Object(
    {
      offset: Type.Optional(Type.Integer({ minimum: 0 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    },
    { additionalProperties: false },
  ),
  get: Type.Object({ subjectId: Id }, { additionalProperties: false }),
  negative: Type.Object(
    {
      subjectId: Id,
      faceRef: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'From an alert or recognition event' })),
      image: Type.Optional(ImageData),
    },
    { additionalProperties: false, description: 'Mark a face as "not this subject": give faceRef or image' },
  ),
  identify: Type.Object(
    {
      image: ImageData,
      room: Type.Optional(Id),
    },
    { additionalProperties: false, description: 'Single-image analysis: the detector result with every face matched against the gallery' },
  ),
} satisfies Record<GalleryOp, TSchema>;

export type GalleryRequest<O extends GalleryOp> = Static<(typeof GalleryRequests)[O]>;

/** Why an image was not used. */
export const IMAGE_REJECTIONS = ['bad_image', 'no_face', 'several_faces', 'too_small', 'too_blurred', 'duplicate'] as const;
export type ImageRejection = (typeof IMAGE_REJECTIONS)[number];

export const ImageResult = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    ok: Type.Boolean(),
    embeddingId: Type.Optional(Type.String()),
    error: Type.Optional(
      Type.Object({
        code: Type.Union(IMAGE_REJECTIONS.map((c) => Type.Literal(c))),
        message: Type.String(),
      }),
    ),
    quality: Type.Optional(
      Type.Object({
        faceSize: Type.Number({ description: 'Shorter side of the face box, pixels' }),
        sharpness: Type.Number({ description: 'Variance of the Laplacian of the aligned crop' }),
        score: Type.Number(),
      }),
    ),
  },
  { $id: 'ImageResult' },
);
export type ImageResult = Static<typeof ImageResult>;

export const SubjectSummary = Type.Object(
  {
    subjectId: Id,
    name: Name,
    metadata: Metadata,
    embeddings: Type.Integer({ minimum: 0 }),
    negatives: Type.Integer({ minimum: 0 }),
    imagesKept: Type.Integer({ minimum: 0 }),
    createdMs: Type.Integer({ minimum: 0 }),
    updatedMs: Type.Integer({ minimum: 0 }),
  },
  { $id: 'SubjectSummary' },
);
export type SubjectSummary = Static<typeof SubjectSummary>;

const IdentifyResultProps = {
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  faces: Type.Array(AnalysedFace),
  text: Type.Optional(TextInFrame),
  timings: StageTimings,
};
/** Single-image analysis: the detector's result with gallery identities. */
export const IdentifyResult = Type.Object(IdentifyResultProps, { $id: 'IdentifyResult' });
export type IdentifyResult = Static<typeof IdentifyResult>;

const SubjectWithImages = Type.Object({ subject: SubjectSummary, images: Type.Array(ImageResult, { description: 'One verdict per image, in request order' }) });
const OneSubject = Type.Object({ subject: SubjectSummary });

/**
 * What each operation answers when it succeeds (the RPC envelope carries failures as an
 * ErrorBody; `no_usable_image` puts the per-image verdicts in `details.images`).
 */
export const GalleryReplies = {
  enroll: SubjectWithImages,
  add_images: SubjectWithImages,
  rename: OneSubject,
  delete: Type.Object({ subjectId: Id }),
  list: Type.Object({ subjects: Type.Array(SubjectSummary), total: Type.Integer({ minimum: 0 }) }),
  get: OneSubject,
  negative: OneSubject,
  identify: Type.Object(IdentifyResultProps),
} satisfies Record<GalleryOp, TSchema>;

export type GalleryReply<O extends GalleryOp> = Static<(typeof GalleryReplies)[O]>;
