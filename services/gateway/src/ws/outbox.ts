import WebSocket from 'ws';
import { SendQueue, type Queued } from './send-queue.js';

/** Previews one socket may have queued: each is up to PREVIEW_LIMITS.maxBytes (base64), and only the newest matter. */
const QUEUED_PREVIEWS_MAX = 8;

/** A message ready for the wire: encoded once, shared by every socket that gets it. */
export interface Outgoing extends Queued {
  readonly type: string;
  readonly data: Buffer;
}

export interface OutboxEvents {
  sent(item: Outgoing): void;
  dropped(item: Outgoing): void;
  /** The queue is full of messages that may not be dropped. */
  overflow(): void;
}

/**
 * One socket's sending side. Messages wait in a bounded queue and are handed to `ws` only
 * while its unsent bytes (`bufferedAmount`) are under `maxBufferedBytes`, so a slow socket
 * costs at most the queue plus that much memory, and the choice of what to drop stays
 * ours (the newest analysis, never an alert) instead of the kernel's.
 */
export class Outbox {
  private readonly queue: SendQueue<Outgoing>;
  private blockedSince: number | undefined;
  private stopped = false;

  constructor(
    private readonly ws: WebSocket,
    capacity: number,
    private readonly maxBufferedBytes: number,
    private readonly events: OutboxEvents,
  ) {
    this.queue = new SendQueue(capacity, { preview: QUEUED_PREVIEWS_MAX });
  }

  get queued(): number {
    return this.queue.length;
  }

  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  push(item: Outgoing): void {
    if (this.stopped) return;
    const { dropped, overflow } = this.queue.push(item);
    if (dropped) this.events.dropped(dropped);
    if (overflow) return this.events.overflow();
    this.pump();
  }

  /** Sends no more; what is still queued is discarded. */
  stop(): void {
    this.stopped = true;
    this.queue.clear();
  }

  /**
   * True once the socket has had more than `maxBufferedBytes` unsent for `stuckMs`
   * (checked periodically; any moment under the limit starts the clock again).
   */
  isStuck(now: number, stuckMs: number): boolean {
    if (this.ws.bufferedAmount < this.maxBufferedBytes) {
      this.blockedSince = undefined;
      return false;
    }
    this.blockedSince ??= now;
    return now - this.blockedSince >= stuckMs;
  }

  private pump(): void {
    while (!this.stopped && this.queue.length > 0 && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < this.maxBufferedBytes) {
      const item = this.queue.shift()!;
      // The callback runs once the bytes reached the kernel: room for the next ones.
      this.ws.send(item.data, { binary: false }, this.written);
      this.events.sent(item);
    }
    if (this.ws.bufferedAmount < this.maxBufferedBytes) this.blockedSince = undefined;
  }

  private readonly written = (err?: Error): void => {
    if (!err && this.queue.length > 0) this.pump();
  };
}
