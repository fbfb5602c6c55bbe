/**
 * Pending work, at most one item per key (per stream). A newer item of a key replaces the
 * one waiting (the older one is worth nothing now) but keeps its place in line, so a
 * fast-publishing stream cannot starve the others. Used by every stage that sheds load
 * (detector frames, reid faces messages).
 */
export class LatestFrameQueue<T> {
  private readonly pending = new Map<string, T>();

  get size(): number {
    return this.pending.size;
  }

  /** Adds an item; returns the item it superseded, if any. */
  push(key: string, item: T): T | undefined {
    const previous = this.pending.get(key);
    this.pending.set(key, item);
    return previous;
  }

  /**
   * Takes the item that has waited longest among the keys `eligible` accepts (all by
   * default): a worker handling several streams at once skips the streams it has in hand,
   * so one stream's items are still handled one at a time and in order.
   */
  shift(eligible?: (key: string) => boolean): T | undefined {
    for (const [key, item] of this.pending) {
      if (eligible && !eligible(key)) continue;
      this.pending.delete(key);
      return item;
    }
    return undefined;
  }

  clear(): T[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    return all;
  }
}
