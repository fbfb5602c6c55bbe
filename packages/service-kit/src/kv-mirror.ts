import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { Counter } from 'prom-client';
import type { Logger } from './logger.js';

/** A watch on a whole KV bucket: every current value, then every change. */
export interface BucketFollower {
  /** True once the values present when the watch started have been delivered. */
  readonly loaded: boolean;
  /** Resolves when `loaded` turns true (never, if the watch ends before). */
  readonly whenLoaded: Promise<void>;
  stop(): void;
}

/**
 * Follows a bucket with a watch, calling `onEntry` for each value, delete or purge, in
 * order. `loaded` turns true at the last of the initial values (or at once for an empty
 * bucket), which is what readiness checks wait for.
 */
export async function followBucket(kv: KV, onEntry: (e: KvWatchEntry) => void): Promise<BucketFollower> {
  const initial = (await kv.status()).values;
  const iter = await kv.watch();
  let markLoaded = () => {};
  const whenLoaded = new Promise<void>((resolve) => (markLoaded = resolve));
  const follower = { loaded: initial === 0, whenLoaded, stop: () => iter.stop() };
  if (follower.loaded) markLoaded();
  void (async () => {
    for await (const e of iter) {
      onEntry(e);
      if (e.delta === 0 && !follower.loaded) {
        follower.loaded = true;
        markLoaded();
      }
    }
  })();
  return follower;
}

/** What a mirror needs to turn a KV value into T (a contracts validator fits). */
export interface MirrorParser<T> {
  parse(value: unknown): T;
}

/**
 * A small KV bucket kept in memory and followed live with a watch (room configs, stream
 * sessions): every replica reads the current value without a round trip. Invalid values
 * are counted and skipped, never fatal.
 */
export class KvMirror<T> {
  private readonly values = new Map<string, T>();
  private follower: BucketFollower | undefined;

  constructor(
    private readonly what: string,
    private readonly parser: MirrorParser<T>,
    private readonly log: Logger,
    private readonly badMessages: Counter<'subject_kind' | 'reason'>,
  ) {}

  async start(kv: KV): Promise<void> {
    this.follower = await followBucket(kv, (e) => {
      if (e.operation === 'PUT') this.put(e.key, e.revision, () => e.json());
      else {
        this.values.delete(e.key);
        this.log.info({ key: e.key }, `${this.label} removed`);
      }
    });
  }

  private get label(): string {
    return this.what.replaceAll('_', ' ');
  }

  private put(key: string, revision: number, read: () => unknown): void {
    try {
      this.values.set(key, this.parser.parse(read()));
      this.log.info({ key, revision }, `${this.label} updated`);
    } catch (err) {
      this.values.delete(key);
      this.badMessages.inc({ subject_kind: this.what, reason: 'invalid' });
      this.log.warn({ key, error: (err as Error).message }, `ignored invalid ${this.label}`);
    }
  }

  /** True once the values present when the watch started are loaded. */
  get ready(): boolean {
    return this.follower?.loaded ?? false;
  }

  get(key: string): T | undefined {
    return this.values.get(key);
  }

  stop(): void {
    this.follower?.stop();
  }
}
