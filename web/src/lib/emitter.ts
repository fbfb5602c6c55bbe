/** A tiny typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<E> {
  private readonly listeners = new Map<keyof E, Set<(value: never) => void>>();

  on<K extends keyof E>(event: K, fn: (value: E[K]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(fn as (value: never) => void);
    return () => set.delete(fn as (value: never) => void);
  }

  protected emit<K extends keyof E>(event: K, value: E[K]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as (v: E[K]) => void)(value);
      } catch (err) {
        // One broken listener (a page component) must not stop the others or the socket.
        console.error(`lookout: ${String(event)} listener failed`, err);
      }
    }
  }
}
