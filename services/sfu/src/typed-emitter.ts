import { EventEmitter } from 'node:events';

/** Event name → the arguments its listeners get. */
export type EventMap = Record<string, unknown[]>;

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * An EventEmitter whose event names and arguments are checked, in the manner of
 * mediasoup's EnhancedEventEmitter: the owner emits, anyone may listen, and one
 * listener's exception never stops the others or the owner (it goes to `onListenerError`).
 */
export class TypedEmitter<E extends EventMap> {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => undefined) {}

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.on(event, listener as Listener<unknown[]>);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.once(event, listener as Listener<unknown[]>);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.off(event, listener as Listener<unknown[]>);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  /** Calls every listener of `event` in order; returns whether there was any. */
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const listeners = this.emitter.rawListeners(event) as Array<Listener<E[K]>>;
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
    return listeners.length > 0;
  }

  /** Drops every listener: the owner is closed and will not emit again. */
  protected removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}
