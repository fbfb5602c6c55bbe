import WebSocket from 'ws';
import { SendQueue, type DropReason, type Queued } from './send-queue.js';

/** Previews one socket may have queued: each is up to PREVIEW_LIMITS.maxBytes (base64), and only the newest matter. */
const QUEUED_PREVIEWS_MAX = 8;

/** A message ready for the wire: encoded once, shared by every socket that gets it. */
export interface Outgoing extends Queued {
  readonly type: string;
  readonly data: Buffer;
}

export interface OutboxLimits {
  /** Messages the queue holds (WS_QUEUE_LENGTH). */
  capacity: number;
  /** Unsent bytes `ws` may hold before messages wait in the queue (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Expendable messages older than this when their turn comes are dropped (WS_MAX_MESSAGE_AGE_MS). */
  maxAgeMs: number;
}

export interface OutboxEvents {
  sent(item: Outgoing): void;
  dropped(item: Outgoing, reason: DropReason): void;
  /** The queue is full of messages that may not be dropped. */
  overflow(): void;
}

/**
 * One socket's sending side. Messages wait in a bounded queue and are handed to `ws` only
 * while its unsent bytes (`bufferedAmount`) are under `maxBufferedBytes`, so a slow socket
 * costs at most the queue plus that much memory, and the choice of what to drop stays
 * ours (the newest analysis, never an alert) instead of the kernel's. A waiting result is
 * replaced by its stream's newer one, and one that waited past `maxAgeMs` is not sent:
 * a slow client sees the present, late, rather than the past in full.
 */
export class Outbox {
  private readonly queue: SendQueue<Outgoing>;
  private blockedSince: number | undefined;
  private readonly maxBufferedBytes: number;
  private stopped = false;

  constructor(
    private readonly ws: WebSocket,
    limits: OutboxLimits,
    private readonly events: OutboxEvents,
    private readonly now: () => number = Date.now,
  ) {
    this.maxBufferedBytes = limits.maxBufferedBytes;
    this.queue = new SendQueue(limits.capacity, { classCaps: { preview: QUEUED_PREVIEWS_MAX }, maxAgeMs: limits.maxAgeMs });
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
    if (dropped) this.events.dropped(dropped.item, dropped.reason);
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
    // One clock reading per pump: the loop is synchronous, nothing ages during it.
    const now = this.now();
    while (!this.stopped && this.queue.length > 0 && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < this.maxBufferedBytes) {
      const { item, stale } = this.queue.take(now);
      for (const s of stale) this.events.dropped(s, 'stale');
      if (!item) break;
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
