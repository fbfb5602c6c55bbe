import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { kvBuckets } from '@lookout/contracts';
import type { ReidConfig } from './config.js';

export interface ReidBuckets {
  gallery: KV;
  streamState: KV;
  streamSessions: KV;
  roomConfig: KV;
  cooldowns: KV;
  faceRefs: KV;
}

const DAY_MS = 86_400_000;

/**
 * Opens (creating if needed) every KV bucket reid uses. Only the gallery keeps history
 * 1 with no TTL: it is the source of truth; the rest is working state that expires.
 */
export async function openBuckets(nc: NatsConnection, config: ReidConfig): Promise<ReidBuckets> {
  const kvm = new Kvm(nc);
  const replicas = config.jetstreamReplicas;
  const [gallery, streamState, streamSessions, roomConfig, cooldowns, faceRefs] = await Promise.all([
    kvm.create(kvBuckets.gallery, { history: 1, replicas }),
    kvm.create(kvBuckets.streamState, { history: 1, replicas, ttl: config.streamStateTtlMs }),
    kvm.create(kvBuckets.streamSessions, { history: 1, replicas }),
    kvm.create(kvBuckets.roomConfig, { history: 1, replicas }),
    kvm.create(kvBuckets.recognitionCooldown, { history: 1, replicas, ttl: DAY_MS }),
    kvm.create(kvBuckets.faceRefs, { history: 1, replicas, ttl: config.faceRefTtlMs }),
  ]);
  return { gallery, streamState, streamSessions, roomConfig, cooldowns, faceRefs };
}
