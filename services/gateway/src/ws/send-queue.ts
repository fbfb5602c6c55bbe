/**
 * How expendable a queued message is. A preview picture is the largest and least needed
 * (the next one follows within half a second), a newer analysis supersedes an older one,
 * and a per-second metrics sample matters less than an alert, so under pressure `preview`
 * goes first, then `analysis`, then `metrics`; `keep` (alerts, acks, errors, signal
 * replies, stream states) is never dropped.
 */
export type DropClass = 'preview' | 'analysis' | 'metrics' | 'keep';

/**
 * Why a message was not sent (label `reason` of lookout_gateway_ws_messages_dropped_total),
 * the detector's semantics: `superseded` (a newer one of its stream replaced it while it
 * waited), `stale` (too old when its turn came), `queue_full` (the bounded queue made room).
 */
export type DropReason = 'queue_full' | 'superseded' | 'stale';

export interface Queued {
  readonly drop: DropClass;
  /**
   * Expendable messages with the same key (`${type}:${room}/${stream}`) supersede each
   * other while queued: only the newest result of a stream is worth sending.
   */
  readonly key?: string;
  /** When the gateway received it (ms since epoch): its age is counted from here. */
  readonly atMs: number;
}

export interface Dropped<T> {
  item: T;
  reason: DropReason;
}

export interface PushResult<T> {
  /** The message that made room or was replaced (a queued one, or the pushed one itself). */
  dropped?: Dropped<T>;
  /** Full of messages that may not be dropped: the pushed one was not queued. */
  overflow: boolean;
}

export interface TakeResult<T> {
  /** The next message to send; undefined when nothing fresh is left. */
  item: T | undefined;
  /** Expendable messages that were too old when their turn came, oldest first. */
  stale: T[];
}

export interface SendQueueOptions {
  /** A class's own cap: previews are big, so a slow socket holds only the newest few. */
  classCaps?: Partial<Record<DropClass, number>>;
  /** Expendable messages older than this when their turn comes are dropped, not sent. */
  maxAgeMs?: number;
}

const DROP_ORDER: readonly DropClass[] = ['preview', 'analysis', 'metrics'];

/**
 * A bounded FIFO that sheds load like the detector: a newer message of a stream replaces
 * the queued one in its place in line (so a fast stream cannot starve the others, and a
 * slow client gets the newest result, not a backlog), expendable messages too old to
 * matter are skipped when their turn comes, and when full the oldest expendable message
 * makes room. `keep` messages are never dropped, and their order is never changed.
 */
export class SendQueue<T extends Queued> {
  private items: T[] = [];
  private readonly classCaps: Partial<Record<DropClass, number>>;
  private readonly maxAgeMs: number;

  constructor(
    readonly capacity: number,
    options: SendQueueOptions = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: expected an integer ≥ 1, got ${capacity}`);
    this.classCaps = options.classCaps ?? {};
    this.maxAgeMs = options.maxAgeMs ?? Infinity;
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): PushResult<T> {
    const replaced = this.supersede(item);
    if (replaced) return { dropped: { item: replaced, reason: 'superseded' }, overflow: false };
    const victim = this.makeRoom(item);
    if (victim === 'overflow') return { overflow: true };
    if (victim !== item) this.items.push(item);
    return victim ? { dropped: { item: victim, reason: 'queue_full' }, overflow: false } : { overflow: false };
  }

  /**
   * The next message to send at `now`. Staleness is judged here, at the turn to be
   * written, because that is when the client would see it: an old one is skipped.
   */
  take(now: number): TakeResult<T> {
    const stale: T[] = [];
    for (let item = this.items.shift(); item; item = this.items.shift()) {
      if (item.drop === 'keep' || now - item.atMs <= this.maxAgeMs) return { item, stale };
      stale.push(item);
    }
    return { item: undefined, stale };
  }

  /** Empties the queue, returning what was in it. */
  clear(): T[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  /** Puts `item` in the place of a queued message of the same stream; returns that one. */
  private supersede(item: T): T | undefined {
    if (item.drop === 'keep' || item.key === undefined) return undefined;
    const i = this.items.findIndex((x) => x.key === item.key && x.drop !== 'keep');
    if (i < 0) return undefined;
    const old = this.items[i]!;
    this.items[i] = item;
    return old;
  }

  /**
   * Removes what must go for `item` to fit: undefined when nothing must, `item` itself
   * when it is the one to go, 'overflow' when only undroppable messages are queued.
   */
  private makeRoom(item: T): T | 'overflow' | undefined {
    const cap = this.classCaps[item.drop];
    if (cap !== undefined && this.items.filter((x) => x.drop === item.drop).length >= cap) {
      return this.removeOldest(item.drop) ?? item;
    }
    if (this.items.length < this.capacity) return undefined;
    for (const cls of DROP_ORDER) {
      const victim = this.removeOldest(cls);
      if (victim) return victim;
      // Nothing older of this class: the newcomer is the one to go.
      if (item.drop === cls) return item;
    }
    return 'overflow';
  }

  private removeOldest(cls: DropClass): T | undefined {
    const i = this.items.findIndex((x) => x.drop === cls);
    return i < 0 ? undefined : this.items.splice(i, 1)[0];
  }
}
