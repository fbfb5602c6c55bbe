import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import {
  alertEvent,
  encodeJson,
  EVENT_STREAM,
  eventMsgId,
  recognitionEvent,
  streamMetricsEvent,
  subjects,
  type AlertEvent,
  type RecognitionEvent,
  type StreamMetricsEvent,
} from '@lookout/contracts';

const NS_PER_MS = 1_000_000;
const DUPLICATE_WINDOW_MS = 5 * 60_000;

/**
 * Appends alerts, recognitions and per-second metrics to the JetStream stream
 * LOOKOUT_EVENTS. Core subscribers of `alerts.<room>.<stream>` get them too (a JetStream
 * publish is an ordinary message on that subject). Each carries a Nats-Msg-Id derived
 * from its content, so a replica that retries, or two replicas that both emit the same
 * transition, store it once.
 */
export class EventPublisher {
  private constructor(private readonly js: JetStreamClient) {}

  static async start(nc: NatsConnection, maxAgeMs: number, replicas: number): Promise<EventPublisher> {
    const jsm = await jetstreamManager(nc);
    const config = {
      subjects: [...EVENT_STREAM.subjects],
      max_age: maxAgeMs * NS_PER_MS,
      duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
      num_replicas: replicas,
    };
    try {
      await jsm.streams.info(EVENT_STREAM.name);
      await jsm.streams.update(EVENT_STREAM.name, config);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add({ name: EVENT_STREAM.name, ...config }).catch(async (e: Error) => {
        // Another replica created it first.
        if (!/already in use|exists/i.test(e.message)) throw e;
      });
    }
    return new EventPublisher(jetstream(nc));
  }

  async alert(a: AlertEvent): Promise<void> {
    await this.js.publish(subjects.alerts(a.room, a.stream), encodeJson(alertEvent, a), { msgID: eventMsgId.alert(a) });
  }

  async recognition(r: RecognitionEvent): Promise<void> {
    await this.js.publish(subjects.recognitions(r.room, r.stream), encodeJson(recognitionEvent, r), { msgID: eventMsgId.recognition(r) });
  }

  async metrics(m: StreamMetricsEvent): Promise<void> {
    await this.js.publish(subjects.metrics(m.room, m.stream), encodeJson(streamMetricsEvent, m), { msgID: eventMsgId.metrics(m) });
  }
}
