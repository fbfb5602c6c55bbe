import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { kvBuckets } from '@lookout/contracts';
import type { GatewayBuckets } from './deps.js';

const DAY_MS = 86_400_000;

/** Opens (creating if needed) every KV bucket the gateway reads or writes. */
export async function openBuckets(nc: NatsConnection): Promise<GatewayBuckets> {
  const kvm = new Kvm(nc);
  const [roomConfig, placement, sfuInstances, sessions, streamSessions, webhooks, webhookLog, enrollJobs] = await Promise.all([
    kvm.create(kvBuckets.roomConfig, { history: 1 }),
    // The SFUs own these two (and set their TTL); bind without creating.
    kvm.open(kvBuckets.roomPlacement),
    kvm.open(kvBuckets.sfuInstances),
    kvm.create(kvBuckets.sessions, { history: 1 }),
    kvm.create(kvBuckets.streamSessions, { history: 1 }),
    kvm.create(kvBuckets.webhooks, { history: 1 }),
    kvm.create(kvBuckets.webhookLog, { history: 1, ttl: 30 * DAY_MS }),
    kvm.create(kvBuckets.enrollJobs, { history: 1, ttl: 7 * DAY_MS }),
  ]);
  return { roomConfig, placement, sfuInstances, sessions, streamSessions, webhooks, webhookLog, enrollJobs };
}
