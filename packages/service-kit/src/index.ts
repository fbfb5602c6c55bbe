export * from './config.js';
export * from './logger.js';
export * from './metrics.js';
export * from './nats.js';
export * from './http.js';
export * from './lifecycle.js';
export * from './service.js';
export * from './kv-mirror.js';
