import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StoreKey } from '@lookout/contracts';
import { ensureStore, openKvs, type StorageOptions } from '@lookout/service-kit';

/**
 * The KV buckets the gateway reads or writes: its own (room config, sessions and their
 * stream claims, webhooks and their delivery log, enrollment and recording jobs, rate-limit budgets) and the SFUs'
 * placement, heartbeats and room records. Settings come from the one table (contracts storage.ts).
 */
const KV_KEYS = ['roomConfig', 'streamSessions', 'sessions', 'webhooks', 'webhookLog', 'enrollJobs', 'jobs', 'rateLimits', 'sfuInstances', 'roomPlacement', 'sfuRooms'] as const;

/** Every store the gateway uses, the events stream it reads (reports, webhooks) included. */
export const STORE_KEYS = [...KV_KEYS, 'events'] as const satisfies readonly StoreKey[];

export type GatewayBuckets = { readonly [K in (typeof KV_KEYS)[number]]: KV };

/** Opens every store the gateway uses (creating a missing one from the table; see service-kit storage). */
export async function openStores(nc: NatsConnection, opts: StorageOptions): Promise<GatewayBuckets> {
  const [buckets] = await Promise.all([openKvs(nc, KV_KEYS, opts), ensureStore(nc, 'events', opts)]);
  return buckets;
}
