import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { alertEvent, analysisMessage, decodeJson, sfuEvent, streamMetricsEvent, subjects, type Validator, type WsFeed } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import type { TSchema } from '@sinclair/typebox';
import type { Outgoing } from './outbox.js';
import type { DropClass } from './send-queue.js';

/** What a socket can follow in a room: the client's feeds, plus the SFU's events. */
export type FeedKind = WsFeed | 'sfuevents';
export type FeedListener = (msg: Outgoing) => void;

interface KindSpec {
  subject(room: string): string;
  validator: Validator<TSchema>;
  /** `type` of the server message that carries it. */
  type: string;
  drop: DropClass;
}

const KINDS: Record<FeedKind, KindSpec> = {
  analysis: { subject: (r) => subjects.roomStreams('analysis', r), validator: analysisMessage, type: 'analysis', drop: 'analysis' },
  alerts: { subject: (r) => subjects.roomStreams('alerts', r), validator: alertEvent, type: 'alert', drop: 'keep' },
  metrics: { subject: (r) => subjects.roomStreams('metrics', r), validator: streamMetricsEvent, type: 'metrics', drop: 'metrics' },
  sfuevents: { subject: (r) => subjects.sfuEvents(r), validator: sfuEvent, type: 'sfuevent', drop: 'keep' },
};

interface Feed {
  sub: Subscription;
  listeners: Set<FeedListener>;
  /** Settles once the NATS server has the subscription. */
  ready: Promise<void>;
}

/**
 * One NATS subscription per room and kind, shared by every socket of this gateway that
 * follows it, and dropped with its last listener. Each message is validated and encoded
 * once; all sockets send the same bytes.
 */
export class RoomFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly badMessages: Counter<'subject_kind' | 'reason'>,
  ) {}

  /** NATS subscriptions held. */
  get size(): number {
    return this.feeds.size;
  }

  /**
   * Resolves once the NATS server has the subscription, so a client acked after it gets
   * everything published from then on.
   */
  add(room: string, kind: FeedKind, listener: FeedListener): Promise<void> {
    const key = `${kind}:${room}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      const listeners = new Set<FeedListener>();
      const sub = this.nc.subscribe(KINDS[kind].subject(room), {
        callback: (err, msg) => {
          if (err) return this.log.error({ err, room, kind }, 'feed subscription error');
          this.deliver(kind, room, msg.subject, msg.data, listeners);
        },
      });
      // A flush failure (NATS reconnecting) must not fail the request: the subscription
      // is re-sent on reconnect.
      const ready = this.nc.flush().catch((err: Error) => this.log.warn({ room, kind, error: err.message }, 'feed subscription not confirmed'));
      feed = { sub, listeners, ready };
      this.feeds.set(key, feed);
    }
    feed.listeners.add(listener);
    return feed.ready;
  }

  remove(room: string, kind: FeedKind, listener: FeedListener): void {
    const key = `${kind}:${room}`;
    const feed = this.feeds.get(key);
    if (!feed?.listeners.delete(listener) || feed.listeners.size > 0) return;
    feed.sub.unsubscribe();
    this.feeds.delete(key);
  }

  close(): void {
    for (const { sub } of this.feeds.values()) sub.unsubscribe();
    this.feeds.clear();
  }

  private deliver(kind: FeedKind, room: string, subject: string, data: Uint8Array, listeners: Set<FeedListener>): void {
    const spec = KINDS[kind];
    try {
      const value = decodeJson(spec.validator, data) as { room?: unknown };
      // A payload must describe the room its subject names: never show one room another's data.
      if (value.room !== room) throw new Error(`room: ${JSON.stringify(value.room)} on a subject of room ${room}`);
    } catch (e) {
      this.badMessages.inc({ subject_kind: kind, reason: 'invalid' });
      this.log.warn({ subject, error: (e as Error).message }, 'dropped bad feed message');
      return;
    }
    // The validated JSON is spliced in as it came: no re-serialisation per message.
    const out: Outgoing = { type: spec.type, drop: spec.drop, data: Buffer.concat([Buffer.from(`{"type":"${spec.type}","data":`), data, CLOSE_BRACE]) };
    for (const l of listeners) l(out);
  }
}

const CLOSE_BRACE = Buffer.from('}');
