import { jetstreamManager, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { storage, type KvDecl, type KvKey, type ServiceName, type StoreDecl, type StoreKey } from '@lookout/contracts';
import type { Logger } from './logger.js';

/**
 * Opens Lookout's JetStream stores as `@lookout/contracts` (storage.ts) declares them.
 * The owner creates a missing store and brings one that differs back to the table; any
 * other service creates a missing one from the same table but refuses to start when an
 * existing one differs, naming the difference and the owner that would fix it.
 */

const NS_PER_MS = 1_000_000;

export interface StorageOptions {
  /** The service opening the stores. */
  service: ServiceName;
  /** JETSTREAM_REPLICAS: what the owner creates stores with and raises them to. */
  replicas: number;
  /** The owner's tuned values (the table's `tunedBy` settings), by store. */
  tuned?: Partial<Record<StoreKey, { ttlMs?: number; maxAgeMs?: number }>>;
  log: Logger;
}

/** A store differs from the table and this service may not change it. */
export class StorageMismatchError extends Error {
  constructor(
    readonly store: string,
    readonly differences: string[],
    owner: ServiceName,
  ) {
    super(`${store}: ${differences.join('; ')}; it is ${owner}'s to change (start ${owner}, which updates it) or remove it with the nats CLI`);
    this.name = 'StorageMismatchError';
  }
}

export const streamNameOf = (decl: StoreDecl): string => (decl.kind === 'kv' ? `KV_${decl.name}` : decl.name);

interface Wanted {
  max_msgs_per_subject?: number;
  max_age: number;
  max_bytes: number;
  max_msg_size?: number;
  duplicate_window?: number;
  subjects?: string[];
}

/** What the table (with the owner's tuning) asks of the stream behind a store. */
function wanted(decl: StoreDecl, tuned: { ttlMs?: number; maxAgeMs?: number } | undefined): Wanted {
  if (decl.kind === 'kv') {
    return { max_msgs_per_subject: decl.history, max_age: (tuned?.ttlMs ?? decl.ttlMs) * NS_PER_MS, max_bytes: decl.maxBytes, max_msg_size: decl.maxValueBytes };
  }
  return { max_age: (tuned?.maxAgeMs ?? decl.maxAgeMs) * NS_PER_MS, max_bytes: decl.maxBytes, duplicate_window: decl.duplicateWindowMs * NS_PER_MS, subjects: [...decl.subjects] };
}

const isTuned = (decl: StoreDecl, field: keyof Wanted) =>
  field === 'max_age' && (decl.kind === 'kv' ? decl.tunedBy?.ttlMs !== undefined : decl.tunedBy?.maxAgeMs !== undefined);

const show = (field: keyof Wanted, v: unknown) => (field === 'max_age' || field === 'duplicate_window' ? `${Number(v) / NS_PER_MS} ms` : JSON.stringify(v));
const same = (a: unknown, b: unknown) => JSON.stringify(Array.isArray(a) ? [...a].sort() : a) === JSON.stringify(Array.isArray(b) ? [...b].sort() : b);

/** The fields of `config` that differ from `want`, skipping tuned ones unless `owner`. */
export function differences(decl: StoreDecl, config: StreamConfig, want: Wanted, owner: boolean): Array<{ field: keyof Wanted; text: string }> {
  const out: Array<{ field: keyof Wanted; text: string }> = [];
  for (const field of Object.keys(want) as Array<keyof Wanted>) {
    if (!owner && isTuned(decl, field)) continue;
    const have = (config as unknown as Record<string, unknown>)[field];
    if (!same(have ?? null, want[field])) out.push({ field, text: `${field} is ${show(field, have)} where the table says ${show(field, want[field])}` });
  }
  return out;
}

async function info(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (/not found/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

async function create(nc: NatsConnection, jsm: JetStreamManager, decl: StoreDecl, want: Wanted, replicas: number): Promise<void> {
  if (decl.kind === 'kv') {
    await new Kvm(nc).create(decl.name, { history: decl.history, ttl: want.max_age / NS_PER_MS, replicas, max_bytes: decl.maxBytes, maxValueSize: decl.maxValueBytes });
    return;
  }
  await jsm.streams.add({ name: decl.name, subjects: want.subjects!, max_age: want.max_age, duplicate_window: want.duplicate_window!, max_bytes: decl.maxBytes, num_replicas: replicas });
}

/** Makes sure the store exists and matches the table (see the module comment). */
export async function ensureStore(nc: NatsConnection, key: StoreKey, opts: StorageOptions): Promise<void> {
  const decl: StoreDecl = storage[key];
  const owner = decl.owner === opts.service;
  const jsm = await jetstreamManager(nc);
  const name = streamNameOf(decl);
  const want = wanted(decl, owner ? opts.tuned?.[key] : undefined);
  let found = await info(jsm, name);
  if (!found) {
    try {
      await create(nc, jsm, decl, want, opts.replicas);
      opts.log.info({ store: decl.name, owner: decl.owner }, 'created store');
    } catch (err) {
      // Created by someone else meanwhile (maybe tuned otherwise): check what is there.
      if (!(await info(jsm, name))) throw err;
    }
    // Checked either way: Kvm.create binds without a word to a bucket another service made
    // meanwhile (with the table's defaults where this owner tunes them).
    found = await info(jsm, name);
    if (!found) throw new Error(`${name}: missing right after it was created`);
  }
  const diffs = differences(decl, found.config, want, owner);
  const raise = owner && (found.config.num_replicas ?? 1) < opts.replicas;
  if (!diffs.length && !raise) return;
  if (!owner) throw new StorageMismatchError(decl.name, diffs.map((d) => d.text), decl.owner);
  const update: StreamConfig = { ...found.config, ...want, num_replicas: Math.max(found.config.num_replicas ?? 1, opts.replicas) };
  // A window longer than the retention is refused; KV buckets keep theirs at most their TTL.
  if (update.max_age > 0 && update.duplicate_window > update.max_age) update.duplicate_window = update.max_age;
  await jsm.streams.update(name, update);
  opts.log.info({ store: decl.name, changes: diffs.map((d) => d.text), replicas: update.num_replicas }, 'updated store to the table');
}

/** Ensures a KV bucket (ensureStore) and binds to it. */
export async function openKv(nc: NatsConnection, key: KvKey, opts: StorageOptions): Promise<KV> {
  await ensureStore(nc, key, opts);
  const decl: KvDecl = storage[key];
  // On an existing bucket this only binds (and picks up direct gets when the bucket has them).
  return new Kvm(nc).create(decl.name, { history: decl.history });
}

/** Ensures several KV buckets and returns them by key. */
export async function openKvs<K extends KvKey>(nc: NatsConnection, keys: readonly K[], opts: StorageOptions): Promise<Record<K, KV>> {
  const kvs = await Promise.all(keys.map((k) => openKv(nc, k, opts)));
  return Object.fromEntries(keys.map((k, i) => [k, kvs[i]])) as Record<K, KV>;
}

