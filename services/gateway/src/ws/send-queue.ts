/**
 * How expendable a queued message is. A preview picture is the largest and least needed
 * (the next one follows within half a second), a newer analysis supersedes an older one,
 * and a per-second metrics sample matters less than an alert, so under pressure `preview`
 * goes first, then `analysis`, then `metrics`; `keep` (alerts, acks, errors, signal
 * replies, stream states) is never dropped.
 */
export type DropClass = 'preview' | 'analysis' | 'metrics' | 'keep';

export interface Queued {
  readonly drop: DropClass;
}

export interface PushResult<T> {
  /** The message that made room (a queued one, or the pushed one itself). */
  dropped?: T;
  /** Full of messages that may not be dropped: the pushed one was not queued. */
  overflow: boolean;
}

const DROP_ORDER: readonly DropClass[] = ['preview', 'analysis', 'metrics'];

/**
 * A bounded FIFO that makes room by dropping the oldest expendable message. A class may
 * also have its own cap (`classCaps`): previews are big, so a slow socket holds only the
 * newest few, however long the queue.
 */
export class SendQueue<T extends Queued> {
  private items: T[] = [];

  constructor(
    readonly capacity: number,
    private readonly classCaps: Partial<Record<DropClass, number>> = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: expected an integer ≥ 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): PushResult<T> {
    const cap = this.classCaps[item.drop];
    if (cap !== undefined && this.items.filter((x) => x.drop === item.drop).length >= cap) {
      const i = this.items.findIndex((x) => x.drop === item.drop);
      if (i < 0) return { dropped: item, overflow: false };
      const [victim] = this.items.splice(i, 1);
      this.items.push(item);
      return { dropped: victim, overflow: false };
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return { overflow: false };
    }
    for (const cls of DROP_ORDER) {
      const i = this.items.findIndex((x) => x.drop === cls);
      if (i >= 0) {
        const [victim] = this.items.splice(i, 1);
        this.items.push(item);
        return { dropped: victim, overflow: false };
      }
      // Nothing older of this class: the newcomer is the one to go.
      if (item.drop === cls) return { dropped: item, overflow: false };
    }
    return { overflow: true };
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Empties the queue, returning what was in it. */
  clear(): T[] {
    const out = this.items;
    this.items = [];
    return out;
  }
}
