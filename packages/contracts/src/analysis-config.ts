import { Type, type Static } from '@sinclair/typebox';
import { validator } from './validation.js';
import { RecognitionSettings, RuleThresholds } from './rules.js';

/**
 * Optional analyzers of the detector. Face detection always runs. `landmarks` also runs
 * whenever `eyes` or `crops` need it.
 */
export const ANALYZER_NAMES = ['landmarks', 'pose', 'eyes', 'expression', 'liveness', 'text', 'crops'] as const;
export type AnalyzerName = (typeof ANALYZER_NAMES)[number];

export const AnalyzerSettings = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    intervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Run at most once per interval per stream; 0 = every frame' })),
  },
  { additionalProperties: false },
);
export type AnalyzerSettings = Static<typeof AnalyzerSettings>;

export const DETECTION_MODES = ['single', 'tiled', 'auto'] as const;
export type DetectionMode = (typeof DETECTION_MODES)[number];

/**
 * How faces are found (docs/detector.md, "Small faces"): `single` = the whole frame
 * shrunk to the model's input (faces under ~2.5 % of the frame width are lost), `tiled` =
 * that plus overlapping tiles over the frame, `auto` = tiles only on large frames where
 * small faces are in view.
 */
export const DetectionSettings = Type.Object(
  {
    mode: Type.Optional(Type.Union(DETECTION_MODES.map((m) => Type.Literal(m)), { description: 'single | tiled | auto' })),
    smallestFace: Type.Optional(Type.Number({ minimum: 8, maximum: 512, description: 'Smallest face side to find with tiles, original pixels (sets the tile scale; smaller = more tiles)' })),
    maxFrameWidth: Type.Optional(
      Type.Integer({ minimum: 64, maximum: 4096, description: "Width the SFU's tap scales this room's frames to (its MAX_FRAME_WIDTH otherwise); tiles need the camera's resolution" }),
    ),
  },
  { additionalProperties: false },
);
export type DetectionSettings = Static<typeof DetectionSettings>;

/** Per-room overrides of the detector's deployment defaults; every field optional. */
export const RoomAnalysisConfig = Type.Object(
  {
    analyzers: Type.Optional(
      Type.Partial(Type.Object(Object.fromEntries(ANALYZER_NAMES.map((n) => [n, AnalyzerSettings])) as Record<AnalyzerName, typeof AnalyzerSettings>), {
        additionalProperties: false,
      }),
    ),
    minFaceSize: Type.Optional(Type.Number({ minimum: 0, maximum: 4096, description: 'Smallest face side kept, original pixels' })),
    lookingAtCamera: Type.Optional(
      Type.Object(
        {
          maxYawDeg: Type.Number({ minimum: 0, maximum: 90 }),
          maxPitchDeg: Type.Number({ minimum: 0, maximum: 90 }),
        },
        { additionalProperties: false },
      ),
    ),
    livenessThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    detection: Type.Optional(DetectionSettings),
    rules: Type.Optional(RuleThresholds),
    recognition: Type.Optional(RecognitionSettings),
  },
  { $id: 'RoomAnalysisConfig', additionalProperties: false },
);
export type RoomAnalysisConfig = Static<typeof RoomAnalysisConfig>;
export const roomAnalysisConfig = validator('room analysis config', RoomAnalysisConfig);
