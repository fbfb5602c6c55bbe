import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StoreKey } from '@lookout/contracts';
import { openKvs, type StorageOptions } from '@lookout/service-kit';

/**
 * The stores the SFU opens, all its own (contracts storage.ts): its heartbeat, whose TTL
 * it tunes (REGISTRY_TTL_MS, passed in `opts.tuned`), its rooms' placements, and its rooms'
 * records (what it takes to build a room again); and the gateway's room configs, read for
 * a room's tap width (`detection.maxFrameWidth`: tiled detection needs full resolution).
 */
export const STORE_KEYS = ['sfuInstances', 'roomPlacement', 'sfuRooms', 'roomConfig'] as const satisfies readonly StoreKey[];

/** Creates or updates the SFU's buckets to the table, and binds to them. */
export async function openStores(nc: NatsConnection, opts: StorageOptions): Promise<{ sfuInstances: KV; roomPlacement: KV; sfuRooms: KV; roomConfig: KV }> {
  return openKvs(nc, STORE_KEYS, opts);
}
