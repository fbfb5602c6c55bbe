import type { KV } from '@nats-io/kv';
import type { StreamState } from './core/advance.js';
import { identify, pseudonymise, type SubjectRefs } from './state-pseudonyms.js';

/**
 * Per-stream state in KV bucket `lookout_stream_state`, one entry per stream, written
 * only by compare-and-set on the revision that was read. The entry expires (bucket TTL)
 * once a stream stops sending frames. People are named in the entry by gallery ref only
 * (state-pseudonyms.ts): replaced revisions cannot be erased, so they must hold nothing
 * that a gallery delete has to erase.
 */
export class StreamStateStore {
  constructor(
    private readonly kv: KV,
    private readonly refs: SubjectRefs,
  ) {}

  /** The state and the revision to write against (0 = no entry yet). */
  async read(key: string): Promise<{ state: StreamState | null; revision: number }> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return { state: null, revision: e?.revision ?? 0 };
    const value = e.json<StreamState>();
    // An entry from an incompatible version is dropped rather than misread.
    return { state: value && value.v === 1 ? identify(value, this.refs) : null, revision: e.revision };
  }

  /** False when another replica wrote first (re-read and recompute). */
  async write(key: string, state: StreamState, revision: number): Promise<boolean> {
    try {
      const value = JSON.stringify(pseudonymise(state, this.refs));
      if (revision === 0) await this.kv.create(key, value);
      else await this.kv.update(key, value, revision);
      return true;
    } catch (err) {
      if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
      throw err;
    }
  }
}
