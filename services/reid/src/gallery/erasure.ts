import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { EVENT_STREAM, subjects, type AlertEvent, type RecognitionEvent } from '@lookout/contracts';
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
 * found and erased. Per-second metrics name nobody and stay.
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
    for (const f of found) await eraseMessage(this.jsm, EVENT_STREAM.name, f.seq);
    let faceRefs = 0;
    for (const ref of new Set(found.flatMap((f) => (f.faceRef ? [f.faceRef] : [])))) {
      faceRefs += await eraseKey(this.jsm, this.faceRefs, ref).catch(() => 0);
    }
    return { events: found.length, faceRefs };
  }

  /** Sequence and face ref of every message on `filter` whose event `names` says so. */
  private async scan<E extends { faceRef?: string }>(filter: string, names: (e: E) => boolean): Promise<Array<{ seq: number; faceRef?: string }>> {
    const consumer = await this.js.consumers.get(EVENT_STREAM.name, { filter_subjects: filter });
    const out: Array<{ seq: number; faceRef?: string }> = [];
    await readPending(consumer, (m) => {
      let e: E;
      try {
        e = m.json<E>();
      } catch {
        return; // not an event of ours: it names nobody we know of
      }
      if (e && typeof e === 'object' && names(e)) out.push({ seq: m.seq, ...(typeof e.faceRef === 'string' ? { faceRef: e.faceRef } : {}) });
    });
    return out;
  }
}
