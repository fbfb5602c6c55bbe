// The public surface of @lookout/onnx-kit, named (not `export *`), as the other packages'.
// Batch-dynamic ONNX graphs and session options (onnx-batch.ts, ort-options.ts)
export { makeBatchDynamic } from './onnx-batch.js';
export { OPTIMIZATION_LEVELS, sessionOptions } from './ort-options.js';
export type { GraphOptimizationLevel } from './ort-options.js';
// Session options chosen per machine by measurement (calibration.ts and its pieces)
export { CALIBRATION_CACHE_FILE, CALIBRATION_MODES, INT8_TOLERANCE, SESSION_INFO_METRIC, SETTLE_RUNS, createModelSession, int8Alternative } from './calibration.js';
export type { CalibrationMode, CalibrationSettings, GaugeLike, LogLike, ModelSessionRequest, SessionChoice } from './calibration.js';
export type { CalibrationEntry } from './calibration-cache.js';
export { cpuSignature, onnxruntimeVersion, parseCpuInfo } from './cpu-signature.js';
export type { CpuSignature } from './cpu-signature.js';
export { DEFAULT_BUDGET, NOISY_SPREAD, synthesizeInput } from './probe.js';
export type { MeasureBudget } from './probe.js';
export { DEFAULT_TOLERANCE, chooseVariant, compareOutputs, mergeFastest, variantName } from './variants.js';
export type { Agreement, Outputs, Tolerance, VariantTiming } from './variants.js';
