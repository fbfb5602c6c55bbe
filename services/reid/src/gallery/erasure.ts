import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { EVENT_STREAM, encodeJson, streamMetricsEvent, subjects, type AlertEvent, type RecognitionEvent, type StreamMetricsEvent } from '@lookout/contracts';
import { eraseKey, eraseMessage, readPending, type KvStream } from '@lookout/service-kit';


export interface ErasedEvents {
  events: number;
  faceRefs: number;
}

/**
 * Takes a deleted subject out of LOOKOUT_EVENTS: every alert and recognition event naming
 * it (as `subjectId`, or as an alert's `from`/`to`) is erased, and so is the face embedding
 * its `faceRef` kept. Events are append-only and their readers need the names, so they
 * cannot be pseudonymised like the stream state; instead the few that name a person are
 * found and erased. A second of metrics names the people in view (attendance): each one
 * naming the subject is published again with that person unnamed (a track not
 * identified), then erased, so past reports keep their scores and presence.
 */
export class EventEraser {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly faceRefs: KvStream,
  ) {}

  async eraseSubject(subjectId: string): Promise<ErasedEvents> {
    const found = [
      ...(await this.scan(subjects.all('recognitions'), (e: RecognitionEvent) => e.subjectId === subjectId)),
      ...(await this.scan(subjects.all('alerts'), (e: AlertEvent) => e.from?.subjectId === subjectId || e.to?.subjectId === subjectId)),
    ];
    const seconds = await this.scan<StreamMetricsEvent & { faceRef?: string }>(subjects.all('metrics'), (e) => e.people?.some((p) => p.subjectId === subjectId) === true);
    for (const s of seconds) {
      // A new Nats-Msg-Id per erased message: the original's would be taken as a duplicate.
      await this.js.publish(subjects.metrics(s.event.room, s.event.stream), encodeJson(streamMetricsEvent, unnamed(s.event, subjectId)), { msgID: `metrics-unnamed:${s.seq}` });
      await eraseMessage(this.jsm, EVENT_STREAM.name, s.seq);
    }
    for (const f of found) await eraseMessage(this.jsm, EVENT_STREAM.name, f.seq);
    let faceRefs = 0;
    for (const ref of new Set(found.flatMap((f) => (f.faceRef ? [f.faceRef] : [])))) {
      faceRefs += await eraseKey(this.jsm, this.faceRefs, ref).catch(() => 0);
    }
    return { events: found.length + seconds.length, faceRefs };
  }

  /** Sequence and face ref of every message on `filter` whose event `names` says so. */
  private async scan<E extends { faceRef?: string }>(filter: string, names: (e: E) => boolean): Promise<Array<{ seq: number; faceRef?: string; event: E }>> {
    const consumer = await this.js.consumers.get(EVENT_STREAM.name, { filter_subjects: filter });
    const out: Array<{ seq: number; faceRef?: string; event: E }> = [];
    await readPending(consumer, (m) => {
      let e: E;
      try {
        e = m.json<E>();
      } catch {
        return; // not an event of ours: it names nobody we know of
      }
      if (e && typeof e === 'object' && names(e)) out.push({ seq: m.seq, event: e, ...(typeof e.faceRef === 'string' ? { faceRef: e.faceRef } : {}) });
    });
    return out;
  }
}

/** The second without the subject's name: its tracks read as people not identified. */
export function unnamed(m: StreamMetricsEvent, subjectId: string): StreamMetricsEvent {
  return { ...m, people: (m.people ?? []).map((p) => (p.subjectId === subjectId ? { track: p.track, subjectId: null, name: null, frames: p.frames } : p)) };
}
