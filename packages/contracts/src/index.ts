export * from './ids.js';
export * from './subjects.js';
export * from './validation.js';
export * from './frame.js';
export * from './faces.js';
export * from './ws.js';
export * from './geometry.js';
export * from './analysis-config.js';
