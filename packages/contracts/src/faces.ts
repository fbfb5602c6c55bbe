import { Type, type Static } from '@sinclair/typebox';
import { Id, ID_PATTERN } from './ids.js';
import { parseStreamSubject } from './subjects.js';
import { decodeJson, ValidationError, validator } from './validation.js';

/** [x1, y1, x2, y2] in pixels of the original frame. */
export const Box = Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], {
  description: '[x1, y1, x2, y2] in original-frame pixels',
});
export type Box = Static<typeof Box>;

/** Model class order of the expression model. */
export const EXPRESSION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type ExpressionLabel = (typeof EXPRESSION_LABELS)[number];

const Probability = Type.Number({ minimum: 0, maximum: 1 });
const AgeMs = Type.Integer({ minimum: 0, description: 'How old the result is: frame capture time minus the capture time of the frame it was computed on' });

export const HeadPose = Type.Object(
  {
    yaw: Type.Number({ description: 'Degrees; positive = head turned towards the image left (the subject\'s right)' }),
    pitch: Type.Number({ description: 'Degrees, as the model reports it (see docs/detector.md)' }),
    roll: Type.Number({ description: 'Degrees; positive = head tilted clockwise as seen in the image' }),
    lookingAtCamera: Type.Boolean({ description: '|yaw| and |pitch| within the configured limits' }),
    ageMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'How old the angles are (as for expression): 0 when the pose model ran on this frame; a still face keeps its pose for up to POSE_REUSE_MAX_AGE_MS (docs/detector.md)',
      }),
    ),
  },
  { $id: 'HeadPose' },
);
export type HeadPose = Static<typeof HeadPose>;

export const EyeState = Type.Object(
  {
    leftOpen: Type.Number({ minimum: 0, maximum: 1, description: 'P(open) of the eye on the image left' }),
    rightOpen: Type.Number({ minimum: 0, maximum: 1, description: 'P(open) of the eye on the image right' }),
    bothClosed: Type.Boolean(),
  },
  { $id: 'EyeState' },
);
export type EyeState = Static<typeof EyeState>;

export const Expression = Type.Object(
  {
    label: Type.Union(EXPRESSION_LABELS.map((l) => Type.Literal(l))),
    probabilities: Type.Record(Type.String(), Probability),
    ageMs: AgeMs,
  },
  { $id: 'Expression' },
);
export type Expression = Static<typeof Expression>;

export const Liveness = Type.Object(
  {
    score: Type.Number({ minimum: 0, maximum: 1, description: 'P(live); low = likely a photo, screen or mask' }),
    live: Type.Boolean({ description: 'score ≥ the configured threshold' }),
    ageMs: AgeMs,
  },
  { $id: 'Liveness' },
);
export type Liveness = Static<typeof Liveness>;

export const AlignedCrop = Type.Object(
  {
    format: Type.Literal('jpeg'),
    width: Type.Literal(112),
    height: Type.Literal(112),
    data: Type.String({ contentEncoding: 'base64', maxLength: 65536 }),
  },
  { $id: 'AlignedCrop', description: '5-point aligned face (ArcFace template), for embedding' },
);
export type AlignedCrop = Static<typeof AlignedCrop>;

export const DetectedFace = Type.Object(
  {
    box: Box,
    score: Type.Number({ minimum: 0, maximum: 1, description: 'Detector confidence' }),
    landmarks: Type.Optional(Type.Array(Type.Number(), { minItems: 136, maxItems: 136, description: '68 points, flat x0, y0, x1, y1, …, original pixels' })),
    pose: Type.Optional(HeadPose),
    eyes: Type.Optional(EyeState),
    expression: Type.Optional(Expression),
    liveness: Type.Optional(Liveness),
    crop: Type.Optional(AlignedCrop),
    thumb: Type.Optional(
      Type.String({
        contentEncoding: 'base64',
        maxLength: 1024,
        description: "The aligned crop's 16×16 grey thumbnail (block averages, row by row; service-kit cropThumb), made from its pixels before the JPEG: reid compares it with the track's to decide whether to embed, and decodes the crop only then",
      }),
    ),
  },
  { $id: 'DetectedFace' },
);
export type DetectedFace = Static<typeof DetectedFace>;

/** Milliseconds spent per stage, keyed by stage name ("decode", "detect", …). */
export const StageTimings = Type.Record(Type.String({ pattern: '^[a-z][a-zA-Z0-9_]*$' }), Type.Number({ minimum: 0 }));
export type StageTimings = Static<typeof StageTimings>;

/** What is common to every per-frame result: which frame it describes. */
const FrameRef = {
  room: Id,
  stream: Id,
  seq: Type.Integer({ minimum: 0 }),
  captureMs: Type.Integer({ minimum: 0, description: 'Capture time of the frame, ms since epoch' }),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  peer: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'The peer that published the frame (its WebRTC producer or its upload socket), from the frame headers' })),
};

export const TextInFrame = Type.Object(
  {
    regions: Type.Array(Type.Object({ box: Box, score: Probability }), { maxItems: 100 }),
    score: Probability,
    ageMs: AgeMs,
  },
  { $id: 'TextInFrame', description: 'Regions that look like text (PP-OCR detection); no recognition' },
);
export type TextInFrame = Static<typeof TextInFrame>;

export const FacesMessage = Type.Object(
  {
    ...FrameRef,
    faces: Type.Array(DetectedFace, { maxItems: 64 }),
    text: Type.Optional(TextInFrame),
    timings: StageTimings,
    worker: Type.String({ description: 'Id of the detector replica that produced it' }),
  },
  { $id: 'FacesMessage' },
);
export type FacesMessage = Static<typeof FacesMessage>;
export const facesMessage = validator('faces message', FacesMessage);

/**
 * A faces message as received on `subject` (`faces.<room>.<stream>`): the payload validated,
 * and its room and stream those of the subject it came on. Every consumer of `faces.>`
 * (reid, and detector replicas sharing cadences) reads it through this.
 */
export function decodeFacesMessage(subject: string, data: Uint8Array): FacesMessage {
  const faces = decodeJson(facesMessage, data);
  const addr = parseStreamSubject(subject);
  if (!addr || addr.room !== faces.room || addr.stream !== faces.stream) throw new ValidationError('faces message', 'room', `subject ${subject} does not match payload`);
  return faces;
}

const Score = Type.Number({ minimum: 0, maximum: 100 });

/** Per-frame scores of one face, 0–100 (docs/reid.md says how each is computed). */
export const FaceScores = Type.Object(
  {
    eyeContact: Score,
    engagement: Score,
    positivity: Score,
    postureStability: Score,
    confidence: Score,
  },
  { $id: 'FaceScores' },
);
export type FaceScores = Static<typeof FaceScores>;

export const AnalysedFace = Type.Composite(
  [
    DetectedFace,
    Type.Object({
      trackId: Type.Optional(Type.String({ description: 'Stable id of this face across the frames of the stream' })),
      principal: Type.Optional(Type.Boolean({ description: 'This face is the stream\'s principal person' })),
      scores: Type.Optional(FaceScores),
      identity: Type.Union([Type.Null(), Type.Object({ subjectId: Id, name: Type.String(), similarity: Type.Number() })], {
        description: 'Recognised gallery subject, or null when unknown / not yet identified (always null on a publisher\'s WebSocket: identification is for viewers and admins)',
      }),
    }),
  ],
  { $id: 'AnalysedFace' },
);
export type AnalysedFace = Static<typeof AnalysedFace>;

export const AnalysisMessage = Type.Object(
  {
    ...FrameRef,
    faces: Type.Array(AnalysedFace),
    text: Type.Optional(TextInFrame),
    timings: StageTimings,
    principal: Type.Optional(
      Type.Object({
        subjectId: Type.Union([Id, Type.Null()]),
        name: Type.Union([Type.String(), Type.Null()]),
        expected: Type.Boolean({ description: 'Set by the session rather than learnt from the stream' }),
        status: Type.Union([Type.Literal('present'), Type.Literal('absent'), Type.Literal('replaced')]),
      }),
    ),
    sessionId: Type.Optional(Id),
  },
  { $id: 'AnalysisMessage' },
);
export type AnalysisMessage = Static<typeof AnalysisMessage>;
export const analysisMessage = validator('analysis message', AnalysisMessage);

/** What `detector.analyze` answers: one image's faces (request payload: one JPEG; see rpc.ts). */
export const AnalyzeImageResult = Type.Object(
  {
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    faces: Type.Array(DetectedFace),
    text: Type.Optional(TextInFrame),
    timings: StageTimings,
  },
  { $id: 'AnalyzeImageResult' },
);
export type AnalyzeImageResult = Static<typeof AnalyzeImageResult>;
