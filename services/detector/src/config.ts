import { Type } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';

export const DetectorConfig = configSchema(9102, {
  modelsDir: Type.String({ default: 'models', description: 'Directory holding the model files (see models/manifest.json)' }),
  detectorModel: Type.String({ default: 'fr_detect.onnx', description: 'Face detector ONNX file, relative to MODELS_DIR' }),
  detectConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0.65, description: 'Minimum face score' }),
  nmsIou: Type.Number({ minimum: 0, maximum: 1, default: 0.4, description: 'IoU above which overlapping boxes are suppressed' }),
  minFaceSize: Type.Number({ minimum: 0, default: 16, description: 'Smallest face side kept, original pixels' }),
  maxFrameAgeMs: Type.Integer({ minimum: 1, default: 500, description: 'Frames older than this at processing start are dropped' }),
  inferenceThreads: Type.Integer({ minimum: 1, default: 1, description: 'onnxruntime intra-op threads per session' }),
});
