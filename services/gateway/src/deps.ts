import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Counter, Logger, Registry } from '@lookout/service-kit';
import type { GatewayConfig } from './config.js';
import type { Authenticator } from './http/auth.js';
import type { SfuClient } from './sfu-client.js';

export interface GatewayBuckets {
  roomConfig: KV;
  placement: KV;
  sfuInstances: KV;
  sessions: KV;
  streamSessions: KV;
  webhooks: KV;
  webhookLog: KV;
  enrollJobs: KV;
}

/** What route modules and the WebSocket server are built from (composed in main.ts). */
export interface GatewayDeps {
  nc: NatsConnection;
  log: Logger;
  config: GatewayConfig;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  kv: GatewayBuckets;
  auth: Authenticator;
  sfu: SfuClient;
}
