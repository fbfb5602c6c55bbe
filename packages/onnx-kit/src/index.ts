export * from './onnx-batch.js';
export * from './ort-options.js';
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
