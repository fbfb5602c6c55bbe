import type { JsMsg } from '@nats-io/jetstream';
import {
  alertEvent,
  decodeJson,
  EVENT_STREAM,
  recognitionEvent,
  streamMetricsEvent,
  ValidationError,
  type AlertEvent,
  type RecognitionEvent,
  type StreamMetricsEvent,
  type WebhookEventType,
} from '@lookout/contracts';
import { SUBJECT_KIND, type HookRecord } from './store.js';

/** One event of LOOKOUT_EVENTS as a webhook sends it. */
export interface HookEvent {
  /** Stable across redeliveries: the Nats-Msg-Id, else the stream sequence. */
  id: string;
  type: WebhookEventType;
  subject: string;
  room: string;
  data: AlertEvent | RecognitionEvent | StreamMetricsEvent;
}

const TYPE_OF_KIND = new Map(Object.entries(SUBJECT_KIND).map(([type, kind]) => [kind as string, type as WebhookEventType]));

function decodeData(type: WebhookEventType, data: Uint8Array): HookEvent['data'] {
  if (type === 'alert') return decodeJson(alertEvent, data);
  if (type === 'recognition') return decodeJson(recognitionEvent, data);
  return decodeJson(streamMetricsEvent, data);
}

/** Reads a stored event; throws ValidationError for a subject or body it cannot send. */
export function readEvent(m: Pick<JsMsg, 'subject' | 'data' | 'headers' | 'seq'>): HookEvent {
  const [kind, room] = m.subject.split('.');
  const type = kind === undefined ? undefined : TYPE_OF_KIND.get(kind);
  if (!type || !room) throw new ValidationError('event', 'subject', `unexpected subject ${m.subject}`);
  // The publisher's dedup id names the event by content, so it is also the id a receiver
  // deduplicates by; the stream sequence is as stable for events stored without one.
  const msgId = m.headers?.get('Nats-Msg-Id');
  return { id: msgId || `${EVENT_STREAM.name}:${m.seq}`, type, subject: m.subject, room, data: decodeData(type, m.data) };
}

/** Whether the hook asked for this event (type, then rooms, then alert kinds). */
export function matches(r: Pick<HookRecord, 'events' | 'rooms' | 'alertKinds'>, e: HookEvent): boolean {
  if (!r.events.includes(e.type)) return false;
  if (r.rooms && !r.rooms.includes(e.room)) return false;
  if (r.alertKinds && e.type === 'alert' && !r.alertKinds.includes((e.data as AlertEvent).kind)) return false;
  return true;
}

/** The request body: the same bytes are signed and sent. */
export function eventBody(e: HookEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, subject: e.subject, data: e.data });
}
