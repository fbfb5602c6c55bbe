import type { KV } from '@nats-io/kv';
import type { StreamState } from './core/advance.js';
import { identify, pseudonymise, type SubjectRefs } from './state-pseudonyms.js';

/** How long this replica trusts the revision it wrote last, instead of reading the entry again. */
const OWN_WRITE_TRUSTED_MS = 5_000;
/** After a trusted revision turned out stale (another writer), how long the stream is read first. */
const CONTENDED_MS = 30_000;

/**
 * Per-stream state in KV bucket `lookout_stream_state`, one entry per stream, written
 * only by compare-and-set on the revision that was read. The entry expires (bucket TTL)
 * once a stream stops sending frames. People are named in the entry by gallery ref only
 * (state-pseudonyms.ts): replaced revisions cannot be erased, so they must hold nothing
 * that a gallery delete has to erase.
 *
 * The entry this replica wrote last is kept (as written, refs only) with its revision and
 * read from here for a few seconds: with one reid replica, or a stream whose frames come
 * to this one, that saves a KV round trip per frame. Nothing is trusted blindly: the
 * write is still a compare-and-set on that revision, so if anyone else wrote since (another
 * replica, an erasure), the write fails, the entry is read from KV again and the stream is
 * read first for a while, as before.
 */
export class StreamStateStore {
  private readonly own = new Map<string, { json: string; revision: number; atMs: number }>();
  private readonly contendedUntil = new Map<string, number>();
  private sweptMs = 0;

  constructor(
    private readonly kv: KV,
    private readonly refs: SubjectRefs,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state and the revision to write against (0 = no entry yet). */
  async read(key: string): Promise<{ state: StreamState | null; revision: number }> {
    const mine = this.trusted(key);
    if (mine) return { state: this.decode(JSON.parse(mine.json) as StreamState), revision: mine.revision };
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return { state: null, revision: e?.revision ?? 0 };
    return { state: this.decode(e.json<StreamState>()), revision: e.revision };
  }

  /** False when another replica wrote first (re-read and recompute). */
  async write(key: string, state: StreamState, revision: number): Promise<boolean> {
    const json = JSON.stringify(pseudonymise(state, this.refs));
    try {
      const written = revision === 0 ? await this.kv.create(key, json) : await this.kv.update(key, json, revision);
      this.remember(key, json, written);
      return true;
    } catch (err) {
      if (!/wrong last sequence|key exists/i.test((err as Error).message)) throw err;
      if (this.own.get(key)?.revision === revision) this.contendedUntil.set(key, this.now() + CONTENDED_MS);
      this.own.delete(key);
      return false;
    }
  }

  /** An entry from an incompatible version is dropped rather than misread. */
  private decode(value: StreamState | null): StreamState | null {
    return value && value.v === 1 ? identify(value, this.refs) : null;
  }

  private trusted(key: string): { json: string; revision: number } | undefined {
    const mine = this.own.get(key);
    const now = this.now();
    if (!mine || now - mine.atMs > OWN_WRITE_TRUSTED_MS || (this.contendedUntil.get(key) ?? 0) > now) return undefined;
    return mine;
  }

  private remember(key: string, json: string, revision: number): void {
    const now = this.now();
    // Streams that stopped: swept at most once per trust period (not on every frame's write),
    // over entries no longer trusted anyway.
    if (now - this.sweptMs > OWN_WRITE_TRUSTED_MS) {
      this.sweptMs = now;
      for (const [k, v] of this.own) if (now - v.atMs > OWN_WRITE_TRUSTED_MS) this.own.delete(k);
      for (const [k, until] of this.contendedUntil) if (until <= now) this.contendedUntil.delete(k);
    }
    this.own.set(key, { json, revision, atMs: now });
  }
}
