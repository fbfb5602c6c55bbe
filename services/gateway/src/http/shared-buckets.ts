import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';

/**
 * Token buckets (`capacity` tokens, refilled continuously at `capacity` per minute) that
 * every gateway replica shares through one NATS KV bucket (`rateLimits` in contracts
 * storage.ts), so N replicas allow one budget, not N.
 *
 * A bucket is one key holding `{ tokens, at }`, updated with compare-and-set on the
 * revision last seen: two replicas taking from one budget at once cannot both spend the
 * same token; the loser reads again and retries. Within a replica, takes from one bucket
 * run one after another (a queue per key), so a burst from one client does not make the
 * replica race itself. The revision is cached, so a client
 * whose requests stay on one replica costs one KV write per request, no read. Refusing
 * writes nothing (a stale cached state can only show more tokens than there are, never
 * fewer, so "empty" read from it is true). An unused bucket is full after a minute, so the
 * KV's TTL (two minutes after the last write) can drop it.
 *
 * Failure: when NATS does not answer within `timeoutMs` (or the KV is full), the take is
 * decided by an in-process bucket instead, which is what one replica alone would allow:
 * deliberately fail-open to per-replica limits rather than refusing every request
 * while NATS is away (the API needs NATS for nearly everything anyway).
 */

export interface BucketState {
  tokens: number;
  /** Time of `tokens`, ms since epoch (the writer's clock; replicas are NTP-synchronised). */
  at: number;
}

export interface Take {
  ok: boolean;
  /** Whole tokens left after this take. */
  remaining: number;
  /** When refused: seconds until a token is back. */
  retryAfterS: number;
  /** False when the in-process fallback decided. */
  shared: boolean;
}

export interface SharedBucketsOptions {
  /** Tokens a bucket holds, and refills per minute. */
  capacity: number;
  /** Key prefix in the KV bucket (one per purpose: `req`, `auth`). */
  prefix: string;
  /** How long a take waits for NATS before the in-process bucket decides. */
  timeoutMs?: number;
  /** Called when the in-process bucket decided (for a metric and a log line). */
  onFallback?: (err: Error) => void;
}

/** A bucket's state at `now`: refilled since `at`, capped at capacity. */
export function refilled(s: BucketState | undefined, capacity: number, now: number): BucketState {
  if (!s) return { tokens: capacity, at: now };
  const perMs = capacity / 60_000;
  return { tokens: Math.min(capacity, s.tokens + Math.max(0, now - s.at) * perMs), at: Math.max(now, s.at) };
}

function decide(s: BucketState, capacity: number, shared: boolean): Take {
  if (s.tokens >= 1) return { ok: true, remaining: Math.floor(s.tokens - 1), retryAfterS: 0, shared };
  return { ok: false, remaining: 0, retryAfterS: Math.max(1, Math.ceil((1 - s.tokens) / (capacity / 60_000) / 1000)), shared };
}

/** In-process buckets: the fallback, bounded in size. */
export class LocalBuckets {
  private readonly buckets = new Map<string, BucketState>();

  constructor(private readonly capacity: number) {}

  take(id: string, now = Date.now()): Take {
    const s = refilled(this.buckets.get(id), this.capacity, now);
    const t = decide(s, this.capacity, false);
    if (t.ok) s.tokens -= 1;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(id, s);
    return t;
  }
}

/** KV keys allow [-/_=.A-Za-z0-9]: ids are hashed (which also keeps client addresses out of the store). */
const keyOf = (prefix: string, id: string) => `${prefix}.${createHash('sha256').update(id).digest('base64url').slice(0, 32)}`;

const isConflict = (err: unknown) => /wrong last sequence|key exists/i.test((err as Error).message);

/** Conflicts in a row before a take gives up (and the in-process bucket decides): only other replicas cause them. */
const MAX_TRIES = 10;

export class SharedBuckets {
  private readonly cache = new Map<string, { state: BucketState; revision: number }>();
  /** The last take queued per key (see the module comment). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly local: LocalBuckets;
  private readonly timeoutMs: number;
  private stopWatch: (() => void) | undefined;

  constructor(
    private readonly kv: KV,
    private readonly o: SharedBucketsOptions,
  ) {
    this.local = new LocalBuckets(o.capacity);
    this.timeoutMs = o.timeoutMs ?? 500;
  }

  /** Takes one token from `id`'s bucket. */
  async take(id: string, now = Date.now()): Promise<Take> {
    const key = keyOf(this.o.prefix, id);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rate limit store: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const run = (this.queues.get(key) ?? Promise.resolve()).then(() => this.takeShared(key, now));
    const settled = run.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => this.queues.get(key) === settled && this.queues.delete(key));
    try {
      return await Promise.race([run, late]);
    } catch (err) {
      this.o.onFallback?.(err as Error);
      return this.local.take(key, now);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `id`'s bucket as this replica last saw it (no round trip; current when `follow` runs). */
  peek(id: string, now = Date.now()): Take {
    const seen = this.cache.get(keyOf(this.o.prefix, id));
    return decide(refilled(seen?.state, this.o.capacity, now), this.o.capacity, true);
  }

  /**
   * Keeps the cache current with a watch on this prefix's keys, so `peek` sees what other
   * replicas wrote. Meant for rarely written buckets (refused credentials): every write
   * reaches every replica.
   */
  async follow(): Promise<void> {
    const iter = await this.kv.watch({ key: `${this.o.prefix}.>` });
    this.stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') {
          this.cache.delete(e.key);
          continue;
        }
        const seen = this.cache.get(e.key);
        if (seen && seen.revision >= e.revision) continue;
        const state = parseState(e.string());
        if (state) this.remember(e.key, state, e.revision);
      }
    })();
  }

  stop(): void {
    this.stopWatch?.();
  }

  private async takeShared(key: string, now: number): Promise<Take> {
    for (let i = 0; i < MAX_TRIES; i++) {
      let seen = this.cache.get(key);
      if (!seen || i > 0) seen = await this.read(key);
      const s = refilled(seen?.state, this.o.capacity, now);
      const t = decide(s, this.o.capacity, true);
      if (!t.ok) return t;
      const next = { tokens: s.tokens - 1, at: s.at };
      try {
        const value = JSON.stringify(next);
        const revision = seen ? await this.kv.update(key, value, seen.revision) : await this.kv.create(key, value);
        this.remember(key, next, revision);
        return t;
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Another replica wrote first (or the entry expired): read it and try again, after a
        // jittered pause that grows, or a replica whose cache is always current (it wrote
        // last) would win every round while this one starves.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, 2 ** i)));
      }
    }
    throw new Error(`rate limit store: ${MAX_TRIES} conflicting updates in a row`);
  }

  private async read(key: string): Promise<{ state: BucketState; revision: number } | undefined> {
    const e = await this.kv.get(key);
    const state = e && e.operation === 'PUT' ? parseState(e.string()) : undefined;
    if (!e || !state) {
      this.cache.delete(key);
      // A deleted or unreadable entry still has a revision to update on.
      return e ? { state: { tokens: this.o.capacity, at: 0 }, revision: e.revision } : undefined;
    }
    this.remember(key, state, e.revision);
    return { state, revision: e.revision };
  }

  private remember(key: string, state: BucketState, revision: number): void {
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(key, { state, revision });
  }
}

function parseState(text: string): BucketState | undefined {
  try {
    const v = JSON.parse(text) as Partial<BucketState>;
    return typeof v.tokens === 'number' && typeof v.at === 'number' && Number.isFinite(v.tokens) && Number.isFinite(v.at) ? { tokens: v.tokens, at: v.at } : undefined;
  } catch {
    return undefined;
  }
}
