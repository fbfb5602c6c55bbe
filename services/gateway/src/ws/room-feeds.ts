import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { alertEvent, analysisMessage, decodeJson, jobInfo, parseStreamSubject, sfuEvent, streamMetricsEvent, subjects, type Validator, type WsFeed } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import type { TSchema } from '@sinclair/typebox';
import type { Outgoing } from './outbox.js';
import { previewEncoder } from './preview-feed.js';
import type { DropClass } from './send-queue.js';

/** What a socket can follow in a room: the client's feeds, plus the SFU's events. */
export type FeedKind = WsFeed | 'sfuevents';
export type FeedListener = (msg: Outgoing) => void;

const CLOSE_BRACE = Buffer.from('}');

/** A server message's bytes, and the stream it is about (its results supersede each other). */
interface Encoded {
  data: Buffer;
  stream?: string;
}

/** One NATS message of a room's feed → the server message; undefined: not sent (rate); throws when invalid. */
type Encoder = (msg: Msg) => Encoded | undefined;

interface KindSpec {
  subject(room: string): string;
  /** `type` of the server message that carries it. */
  type: string;
  drop: DropClass;
  /** Made once per feed, so a stateful one (the preview's rate limit) is per room. */
  encoder(room: string): Encoder;
}

const KINDS: Record<FeedKind, KindSpec> = {
  analysis: { subject: (r) => subjects.roomStreams('analysis', r), type: 'analysis', drop: 'analysis', encoder: json('analysis', analysisMessage) },
  alerts: { subject: (r) => subjects.roomStreams('alerts', r), type: 'alert', drop: 'keep', encoder: json('alert', alertEvent) },
  metrics: { subject: (r) => subjects.roomStreams('metrics', r), type: 'metrics', drop: 'metrics', encoder: json('metrics', streamMetricsEvent) },
  preview: { subject: (r) => subjects.roomStreams('previews', r), type: 'preview', drop: 'preview', encoder: preview },
  sfuevents: { subject: (r) => subjects.sfuEvents(r), type: 'sfuevent', drop: 'keep', encoder: json('sfuevent', sfuEvent) },
  // A recording job's progress (JobInfo names its room): kept, at most one a second per job.
  job: { subject: (r) => subjects.jobProgress(r), type: 'job', drop: 'keep', encoder: json('job', jobInfo) },
};

/** A JSON payload, validated and spliced in as it came: no re-serialisation per message. */
function json(type: string, validator: Validator<TSchema>): (room: string) => Encoder {
  const head = Buffer.from(`{"type":"${type}","data":`);
  return (room) => (msg) => {
    const value = decodeJson(validator, msg.data) as { room?: unknown; stream?: unknown };
    // A payload must describe the room its subject names: never show one room another's data.
    if (value.room !== room) throw new Error(`room: ${JSON.stringify(value.room)} on a subject of room ${room}`);
    // Keyed by the stream the client sees in the payload (alerts and SFU events are kept, unkeyed or not).
    return { data: Buffer.concat([head, msg.data, CLOSE_BRACE]), stream: typeof value.stream === 'string' ? value.stream : undefined };
  };
}

/** Previews keyed by their subject's stream (the encoder checked it names the headers' one). */
function preview(room: string): Encoder {
  const encode = previewEncoder(room);
  return (msg) => {
    const data = encode(msg);
    return data && { data, stream: parseStreamSubject(msg.subject)?.stream };
  };
}

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
      const encode = KINDS[kind].encoder(room);
      const sub = this.nc.subscribe(KINDS[kind].subject(room), {
        callback: (err, msg) => {
          if (err) return this.log.error({ err, room, kind }, 'feed subscription error');
          this.deliver(kind, room, msg, encode, listeners);
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

  private deliver(kind: FeedKind, room: string, msg: Msg, encode: Encoder, listeners: Set<FeedListener>): void {
    const spec = KINDS[kind];
    let encoded: Encoded | undefined;
    try {
      encoded = encode(msg);
    } catch (e) {
      this.badMessages.inc({ subject_kind: kind, reason: 'invalid' });
      this.log.warn({ subject: msg.subject, error: (e as Error).message }, 'dropped bad feed message');
      return;
    }
    if (!encoded) return;
    const { data, stream } = encoded;
    // Encoded once; every socket queues the same bytes. Stamped now: a socket's queue
    // drops it as stale once it has waited WS_MAX_MESSAGE_AGE_MS.
    const key = spec.drop !== 'keep' && stream !== undefined ? `${spec.type}:${room}/${stream}` : undefined;
    const out: Outgoing = { type: spec.type, drop: spec.drop, key, data, atMs: Date.now() };
    for (const l of listeners) l(out);
  }
}
