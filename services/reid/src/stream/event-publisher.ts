import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import {
  alertEvent,
  encodeJson,
  eventMsgId,
  recognitionEvent,
  streamMetricsEvent,
  subjects,
  type AlertEvent,
  type RecognitionEvent,
  type StreamMetricsEvent,
} from '@lookout/contracts';

/**
 * Appends alerts, recognitions and per-second metrics to the JetStream stream
 * LOOKOUT_EVENTS (the store table's `events`, made sure of by stores.ts before this
 * starts). Core subscribers of `alerts.<room>.<stream>` get them too (a JetStream publish
 * is an ordinary message on that subject). Each carries a Nats-Msg-Id derived from its
 * content, so a replica that retries, or two replicas that both emit the same transition,
 * store it once (the stream's duplicate window).
 */
export class EventPublisher {
  private readonly js: JetStreamClient;

  constructor(nc: NatsConnection) {
    this.js = jetstream(nc);
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
