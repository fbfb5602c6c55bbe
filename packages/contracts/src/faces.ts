import { Type, type Static } from '@sinclair/typebox';
import { Id } from './ids.js';
import { validator } from './validation.js';

/** [x1, y1, x2, y2] in pixels of the original frame. */
export const Box = Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], {
  description: '[x1, y1, x2, y2] in original-frame pixels',
});
export type Box = Static<typeof Box>;

export const DetectedFace = Type.Object(
  {
    box: Box,
    score: Type.Number({ minimum: 0, maximum: 1, description: 'Detector confidence' }),
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
};

export const FacesMessage = Type.Object(
  {
    ...FrameRef,
    faces: Type.Array(DetectedFace),
    timings: StageTimings,
    worker: Type.String({ description: 'Id of the detector replica that produced it' }),
  },
  { $id: 'FacesMessage' },
);
export type FacesMessage = Static<typeof FacesMessage>;
export const facesMessage = validator('faces message', FacesMessage);

export const AnalysedFace = Type.Composite(
  [
    DetectedFace,
    Type.Object({
      identity: Type.Union([Type.Null(), Type.Object({ subjectId: Id, name: Type.String(), similarity: Type.Number() })], {
        description: 'Recognised gallery subject, or null when unknown / not yet identified',
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
    timings: StageTimings,
  },
  { $id: 'AnalysisMessage' },
);
export type AnalysisMessage = Static<typeof AnalysisMessage>;
export const analysisMessage = validator('analysis message', AnalysisMessage);
