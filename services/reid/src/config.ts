import { Type, type Static } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';
import { CALIBRATION_MODES } from '@lookout/onnx-kit';

const Similarity = (value: number, description: string) => Type.Number({ minimum: -1, maximum: 1, default: value, description });
const Ms = (value: number, description: string) => Type.Integer({ minimum: 0, default: value, description });

export const ReidConfig = configSchema(9103, {
  modelsDir: Type.String({ default: 'models', description: 'Directory holding the model files (see models/manifest.json); a relative path is taken from the Lookout directory (the one holding services/), not the working directory' }),
  featureModel: Type.String({ default: 'fr_feature.onnx', description: 'Face embedding model (112×112 aligned crop → 512-d), relative to MODELS_DIR' }),
  inferenceThreads: Type.Integer({ minimum: 1, default: 1, description: 'onnxruntime intra-op threads for the embedding model' }),
  batchFaceModels: Type.Boolean({ default: true, description: 'Embed all faces of a frame in one inference' }),
  modelCalibration: Type.Union(
    CALIBRATION_MODES.map((m) => Type.Literal(m)),
    { default: 'auto', description: 'How the embedding model\'s session options (graph optimization level) are chosen: auto = the fastest level whose outputs agree, measured on this machine at start and cached in MODELS_DIR/session-calibration.json per model, CPU, onnxruntime version and threads; measure = measure again and rewrite the cache; disabled, basic, extended or all = that level, nothing measured (reproducible runs). docs/models.md' },
  ),
  acceptSimilarity: Similarity(0.45, 'Cosine similarity at or above which a face matches a gallery subject (fixture EER point: 0.36)'),
  acceptMargin: Similarity(0.05, 'The best subject must lead the next subject by at least this much'),
  negativeMargin: Similarity(0.05, 'A face closer than (positive − this) to one of a subject\'s negative examples loses twice the difference from its score'),
  searchTopK: Type.Integer({ minimum: 1, maximum: 1000, default: 32, description: 'Gallery embeddings fetched per face before grouping by subject' }),
  keepImages: Type.Boolean({ default: false, description: 'Keep the aligned 112×112 face crop of each enrolled image in the gallery (off: embeddings only)' }),
  maxEmbeddingsPerSubject: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Images (embeddings) kept per subject' }),
  enrollMinFaceSize: Type.Number({ minimum: 0, default: 60, description: 'Enrollment: shorter side of the face box below this is "too small" (pixels)' }),
  enrollMinSharpness: Type.Number({ minimum: 0, default: 80, description: 'Enrollment: variance of the Laplacian of the aligned crop below this is "too blurred"' }),
  enrollMinScore: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'Enrollment: detector score below this does not count as a usable face' }),
  enrollCompetingArea: Type.Number({ minimum: 0, maximum: 1, default: 0.4, description: 'Enrollment: another face at least this share of the main face\'s area makes the image "several faces"' }),
  eraseGraceMs: Ms(2000, 'A gallery delete waits this long after every replica was told (its tombstone) before it looks for events naming the subject: a frame matched just before is published within it (docs/gallery.md)'),
  detectorTimeoutMs: Ms(15000, 'Timeout of a detector.analyze request during enrollment'),
  principalStableMs: Ms(2000, 'Without an expected subject, the first identity stable this long becomes the stream\'s principal person'),
  recognitionCooldownMs: Ms(30000, 'Default per-identity, per-room cooldown of recognition events (rooms may override)'),
  rejectUnknown: Type.Boolean({ default: false, description: 'Default: emit REJECT recognition events for faces that match nobody' }),
  streamStateTtlMs: Ms(3_600_000, 'Per-stream state expires this long after the stream\'s last frame'),
  faceRefTtlMs: Ms(7 * 86_400_000, 'Embeddings of faces named in events are kept this long for "not this subject" feedback'),
  eventsMaxAgeMs: Ms(30 * 86_400_000, 'Retention of the LOOKOUT_EVENTS JetStream stream (alerts, recognitions, metrics)'),
  maxFrameAgeMs: Type.Integer({ minimum: 1, default: 3000, description: 'Faces messages whose capture time is older than this when their turn comes are dropped (stale); counted from capture like the detector\'s MAX_FRAME_AGE_MS, so it includes the detector\'s time (up to 500 ms of waiting, then a second or more on a many-face frame on a busy CPU)' }),
  frameConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Faces messages a replica handles at once (never two of one stream); one can wait on KV while another is embedded. More waiting messages are shed, one kept per stream' }),
  embedRefreshMs: Ms(1000, 'A tracked face whose look has not changed is embedded again after this long (capture time); 0 embeds every face of every frame'),
  embedChangeIou: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'A face overlapping its track\'s last box less than this (IoU) may have changed: it is embedded' }),
  embedChangeJump: Type.Number({ minimum: 0, default: 0.25, description: 'A face whose box centre moved, or side changed, by more than this share of the side since the last frame may have changed: it is embedded' }),
  embedChangeThumb: Type.Number({ minimum: 0, default: 0.3, description: 'A face whose 16×16 grey crop differs from the one its track last embedded by more than this (mean absolute difference, brightness and contrast taken out; same person ≤ 0.14, another ≈ 1 on the fixture video) is embedded' }),
  reidJobConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Recording-job frames (`reid.analyze_frame`) a replica handles at once, besides live frames (never two of one stream); docs/reid.md' }),
  reidJobQueueMax: Type.Integer({ minimum: 0, maximum: 1000, default: 8, description: 'Recording-job frames that may wait on a replica; one more is answered `busy` (the job asks again, maybe another replica), unless its job holds less than an equal share' }),
  reidJobLiveWaitMs: Ms(2000, 'A recording-job frame gives way to waiting live frames for at most this long after it arrived, so jobs move under steady live load'),
  casRetries: Type.Integer({ minimum: 1, maximum: 100, default: 12, description: 'Attempts to commit a frame to the stream state before giving up on that frame' }),
});
export type ReidConfig = Static<typeof ReidConfig>;
