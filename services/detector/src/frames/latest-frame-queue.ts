/**
 * Pending frames, at most one per stream. A newer frame of a stream replaces the one
 * waiting (the older one is worth nothing now) but keeps its place in line, so a
 * fast-publishing stream cannot starve the others.
 */
export class LatestFrameQueue<T> {
  private readonly pending = new Map<string, T>();

  get size(): number {
    return this.pending.size;
  }

  /** Adds a frame; returns the frame it superseded, if any. */
  push(stream: string, item: T): T | undefined {
    const previous = this.pending.get(stream);
    this.pending.set(stream, item);
    return previous;
  }

  /** Takes the frame of the stream that has waited longest. */
  shift(): T | undefined {
    const first = this.pending.entries().next();
    if (first.done) return undefined;
    this.pending.delete(first.value[0]);
    return first.value[1];
  }

  clear(): T[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    return all;
  }
}
