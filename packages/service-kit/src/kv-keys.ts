import type { JetStreamManager } from '@nats-io/jetstream';
import type { KvStream } from './kv-erasure.js';

/**
 * The keys of a KV bucket, read from its stream's subject counts (one stream-info request,
 * paged by the client for large buckets) instead of `kv.keys()`. `keys()` runs an ordered
 * consumer over the bucket: messages erased while it runs (a gallery delete scrubbing
 * sessions, a job deleted while jobs are listed) make it reset and deliver again, so it
 * named keys twice and once ran for a minute listing 4,864 entries of 8 keys. A key whose
 * last message is a delete or purge marker is listed too: callers read each key and skip
 * what is not there, as they must anyway (it may go between the listing and the read).
 */
export async function kvKeys(jsm: JetStreamManager, kv: KvStream): Promise<string[]> {
  const prefix = `$KV.${kv.bucket}.`;
  const info = await jsm.streams.info(kv.stream, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {})
    .filter((s) => s.startsWith(prefix))
    .map((s) => s.slice(prefix.length));
}
