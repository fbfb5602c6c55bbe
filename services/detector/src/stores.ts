import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StoreKey } from '@lookout/contracts';
import { openKvs, type StorageOptions } from '@lookout/service-kit';

/**
 * The stores the detector opens (contracts storage.ts). It owns none: the room configs
 * are the gateway's, so the detector may create a missing bucket from the table but
 * refuses to start when the one it finds differs.
 */
export const STORE_KEYS = ['roomConfig'] as const satisfies readonly StoreKey[];

export async function openStores(nc: NatsConnection, opts: StorageOptions): Promise<{ roomConfig: KV }> {
  return openKvs(nc, STORE_KEYS, opts);
}
