export * from './ports.js';
export * from './processes.js';
export * from './nats-server.js';
export * from './services.js';
export * from './ws-client.js';
export * from './frames.js';
export * from './sfu-client.js';
export * from './gallery-client.js';
