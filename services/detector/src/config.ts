import { Type } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';
import { CALIBRATION_MODES } from '@lookout/onnx-kit';
import { DETECTION_MODES } from '@lookout/contracts';

const interval = (ms: number, what: string) => Type.Integer({ minimum: 0, default: ms, description: `${what}: run at most once per this many ms per stream (0 = every frame)` });

export const DetectorConfig = configSchema(9102, {
  modelsDir: Type.String({ default: 'models', description: 'Directory holding the model files (see models/manifest.json); a relative path is taken from the Lookout directory (the one holding services/), not the working directory' }),
  detectorModel: Type.String({ default: 'fr_detect.onnx', description: 'Face detector ONNX file, relative to MODELS_DIR' }),
  landmarkModel: Type.String({ default: 'fr_landmark.onnx', description: '68-point landmark model' }),
  poseModel: Type.String({ default: 'fr_pose.onnx', description: 'Head pose model (66 bins per angle)' }),
  eyeModel: Type.String({ default: 'fr_eye.onnx', description: 'Eye open/closed model' }),
  expressionModel: Type.String({ default: 'fr_expression.onnx', description: 'Seven-class expression model' }),
  livenessModel: Type.String({ default: 'fr_liveness.onnx', description: 'Anti-spoof model' }),
  textModel: Type.String({ default: 'ppocr_det.onnx', description: 'PP-OCR text detection model' }),
  analyzers: Type.String({
    default: 'landmarks,pose,eyes,expression,liveness,text,crops',
    pattern: '^none$|^(landmarks|pose|eyes|expression|liveness|text|crops)(,(landmarks|pose|eyes|expression|liveness|text|crops))*$',
    description:
      'Analyzers enabled by default (comma-separated), or `none` for face detection only; rooms may override. Face detection always runs. An empty value counts as unset (the default list), like every setting',
  }),
  expressionIntervalMs: interval(1000, 'Expression'),
  livenessIntervalMs: interval(1000, 'Liveness'),
  textIntervalMs: interval(5000, 'Text detection'),
  poseIntervalMs: interval(0, 'Head pose'),
  poseReuseMaxAgeMs: Type.Integer({
    minimum: 0,
    default: 1000,
    description:
      'On stream frames with pose on every frame (POSE_INTERVAL_MS=0), a face whose 68-point shape moved less than POSE_REUSE_MAX_SHIFT keeps the pose computed on an earlier frame, up to this old (its ageMs says how old); 0 = run the pose model on every face of every frame. docs/detector.md',
  }),
  poseReuseMaxShift: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0.02,
    description: 'Mean landmark movement, in face-box sizes, below which a face\'s pose is kept (POSE_REUSE_MAX_AGE_MS); anything more runs the pose model again at once',
  }),
  eyesIntervalMs: interval(0, 'Eye state'),
  detectConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0.65, description: 'Minimum face score' }),
  nmsIou: Type.Number({ minimum: 0, maximum: 1, default: 0.4, description: 'IoU above which overlapping boxes are suppressed' }),
  minFaceSize: Type.Number({ minimum: 0, default: 16, description: 'Smallest face side kept, original pixels' }),
  detectionMode: Type.Union(
    DETECTION_MODES.map((m) => Type.Literal(m)),
    {
      default: 'auto',
      description:
        'How faces are found: single = the whole frame shrunk to the model input; tiled = also overlapping tiles over the frame (finds faces down to SMALLEST_FACE px in wide frames, ~20 model runs a frame at 1280×720); auto = tiles only on frames ≥ 3× the model input (960×720) where small faces are in view, probing once a second otherwise. Rooms override it (detection.mode). docs/detector.md',
    },
  ),
  smallestFace: Type.Number({ minimum: 8, maximum: 512, default: 20, description: 'Smallest face side (original pixels) tiled detection is sized to find' }),
  maxYawDeg: Type.Number({ minimum: 0, maximum: 90, default: 25, description: '"Looking at camera" when |yaw| is at most this' }),
  maxPitchDeg: Type.Number({ minimum: 0, maximum: 90, default: 20, description: '"Looking at camera" when |pitch| is at most this' }),
  livenessThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Liveness score at or above which a face counts as live' }),
  maxAnalysisSide: Type.Integer({ minimum: 320, maximum: 4096, default: 1280, description: 'Frames are downscaled so their longer side is at most this before analysis' }),
  maxFrameAgeMs: Type.Integer({ minimum: 1, default: 500, description: 'Frames older than this at processing start are dropped' }),
  detectorJobQueueMax: Type.Integer({
    minimum: 1,
    default: 8,
    description:
      'Recording-job frames (detector.analyze_frame) that may wait on one replica behind live frames; one more is answered `busy` at once and its caller offers it again, unless its job holds less than an equal share (jobs share fairly). Job frames are never dropped for age. docs/detector.md',
  }),
  batchFaceModels: Type.Boolean({ default: true, description: 'Run each per-face model once per frame for all faces (batch dimension made symbolic at load)' }),
  inferenceThreads: Type.Integer({ minimum: 1, default: 1, description: 'onnxruntime intra-op threads per session' }),
  modelCalibration: Type.Union(
    CALIBRATION_MODES.map((m) => Type.Literal(m)),
    { default: 'auto', description: 'How each model\'s session options (graph optimization level) are chosen: auto = the fastest level whose outputs agree, measured on this machine at start and cached in MODELS_DIR/session-calibration.json per model, CPU, onnxruntime version and threads; measure = measure again and rewrite the cache; disabled, basic, extended or all = that level, nothing measured (reproducible runs). docs/models.md' },
  ),
});
