import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import type { Static, TSchema } from '@sinclair/typebox';
import { alertEvent, decodeJson, EVENT_STREAM, recognitionEvent, streamMetricsEvent, subjects, type Validator } from '@lookout/contracts';
import { readPending } from '@lookout/service-kit';
import type { SessionEvents } from './report.js';

export interface EventWindow {
  room: string;
  stream: string;
  /** Read from this store time on (ms since epoch). */
  fromMs: number;
  /** Stop at the first message stored after this; undefined: read up to now. */
  untilMs?: number;
}

/** How far before a session's start reading begins: gateways' and the server's clocks may disagree. */
export const CLOCK_SKEW_MS = 30_000;
/** How long after a session's end its events may still arrive (episode closes, the last second). */
export const LATE_EVENTS_MS = 60_000;


/**
 * Reads one stream's events back from LOOKOUT_EVENTS. nats-server 2.9 takes a single
 * filter subject per consumer, inside one stream subject, so each kind gets its own
 * ephemeral ordered consumer on `<kind>.<room>.<stream>`, starting at the window's start
 * time: a report reads its stream's events of that period, not the whole history.
 * Nothing is kept between calls, so any gateway instance can serve any report.
 */
export async function readStreamEvents(js: JetStreamClient, w: EventWindow, onBad: (kind: string, err: Error) => void): Promise<SessionEvents> {
  const decodeAll = <T extends TSchema>(kind: string, v: Validator<T>, data: Uint8Array[]): Array<Static<T>> =>
    data.flatMap((d) => {
      try {
        return [decodeJson(v, d)];
      } catch (err) {
        onBad(kind, err as Error);
        return [];
      }
    });
  const [alerts, recognitions, metrics] = await Promise.all([
    readSubject(js, subjects.alerts(w.room, w.stream), w),
    readSubject(js, subjects.recognitions(w.room, w.stream), w),
    readSubject(js, subjects.metrics(w.room, w.stream), w),
  ]);
  return {
    alerts: decodeAll('alert', alertEvent, alerts),
    recognitions: decodeAll('recognition', recognitionEvent, recognitions),
    metrics: decodeAll('metrics', streamMetricsEvent, metrics),
  };
}

/** Message bodies on one subject from `fromMs` until caught up (or past `untilMs`). */
async function readSubject(js: JetStreamClient, subject: string, w: EventWindow): Promise<Uint8Array[]> {
  let consumer;
  try {
    consumer = await js.consumers.get(EVENT_STREAM.name, { filter_subjects: subject, opt_start_time: new Date(w.fromMs).toISOString() });
  } catch (err) {
    // reid creates the stream; before it ever ran there is simply nothing to read.
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return [];
    throw err;
  }
  const out: Uint8Array[] = [];
  await readPending(consumer, (m) => {
    if (w.untilMs !== undefined && m.info.timestampNanos / 1e6 > w.untilMs) return false;
    out.push(m.data);
  });
  return out;
}
