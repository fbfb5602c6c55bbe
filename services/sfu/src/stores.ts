import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StoreKey } from '@lookout/contracts';
import { openKvs, type StorageOptions } from '@lookout/service-kit';

/**
 * The stores the SFU opens, all its own (contracts storage.ts): its heartbeat, whose TTL
 * it tunes (REGISTRY_TTL_MS, passed in `opts.tuned`), its rooms' placements, and its rooms'
 * records (what it takes to build a room again).
 */
export const STORE_KEYS = ['sfuInstances', 'roomPlacement', 'sfuRooms'] as const satisfies readonly StoreKey[];

/** Creates or updates the SFU's buckets to the table, and binds to them. */
export async function openStores(nc: NatsConnection, opts: StorageOptions): Promise<{ sfuInstances: KV; roomPlacement: KV; sfuRooms: KV }> {
  return openKvs(nc, STORE_KEYS, opts);
}
