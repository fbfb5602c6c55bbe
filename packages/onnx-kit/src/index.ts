export * from './onnx-batch.js';
export * from './ort-options.js';
