import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KvKey, StoreKey } from '@lookout/contracts';
import { ensureStore, openKvs, type StorageOptions } from '@lookout/service-kit';
import type { ReidConfig } from './config.js';

/**
 * Every JetStream store reid reads or writes, by its key in the contracts' store table
 * (`storage`). reid owns the gallery, the stream state, the recognition cooldowns, the face
 * refs and the events stream; the room config and the stream sessions are the gateway's.
 * What each store is (history, TTL, limits) is declared there and nowhere else.
 */
export const STORE_KEYS = ['gallery', 'streamState', 'recognitionCooldown', 'faceRefs', 'roomConfig', 'streamSessions', 'events'] as const satisfies readonly StoreKey[];

type ReidKvKey = Extract<(typeof STORE_KEYS)[number], KvKey>;
const KV_KEYS = STORE_KEYS.filter((k): k is ReidKvKey => k !== 'events');

/** reid's KV buckets, by store key. */
export type ReidBuckets = Record<ReidKvKey, KV>;

/** The table's `tunedBy` settings of reid's stores, from reid's config. */
export function tunedStores(config: ReidConfig): NonNullable<StorageOptions['tuned']> {
  return { streamState: { ttlMs: config.streamStateTtlMs }, faceRefs: { ttlMs: config.faceRefTtlMs }, events: { maxAgeMs: config.eventsMaxAgeMs } };
}

/**
 * Opens reid's buckets and makes sure the events stream exists, as the table declares them:
 * reid's own are created or brought back to the table; the gateway's are created if missing
 * and must otherwise match (service-kit's ensureStore refuses to start on a difference).
 */
export async function openStores(nc: NatsConnection, opts: StorageOptions): Promise<ReidBuckets> {
  const [buckets] = await Promise.all([openKvs(nc, KV_KEYS, opts), ensureStore(nc, 'events', opts)]);
  return buckets;
}
