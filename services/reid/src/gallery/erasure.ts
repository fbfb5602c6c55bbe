import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { EVENT_STREAM, subjects, type AlertEvent, type KvDecl, type RecognitionEvent } from '@lookout/contracts';
import { readPending, streamNameOf } from '@lookout/service-kit';


/** A KV bucket as JetStream stores it: its stream, and its name (a key's subject is `$KV.<name>.<key>`). */
export interface KvStream {
  stream: string;
  bucket: string;
}

export const kvStreamOf = (decl: KvDecl): KvStream => ({ stream: streamNameOf(decl), bucket: decl.name });

/**
 * Erases every stored message of one KV key (all revisions and markers): JetStream's
 * secure delete overwrites the message in the block file, where a purge or a KV delete
 * would only mark it deleted (and a KV purge adds a marker carrying the key). Messages are
 * found by "last message on the subject" gets, not by a consumer: a consumer filtered on
 * the key would leave the key in its config file under the store directory.
 */
export async function eraseKey(jsm: JetStreamManager, kv: KvStream, key: string): Promise<number> {
  const subject = `$KV.${kv.bucket}.${key}`;
  let erased = 0;
  let previous = -1;
  for (;;) {
    const m = await jsm.streams.getMessage(kv.stream, { last_by_subj: subject });
    // The same message again means it could not be erased: stop rather than spin.
    if (!m || m.seq === previous) return erased;
    previous = m.seq;
    await eraseMessage(jsm, kv.stream, m.seq);
    erased++;
  }
}

export async function eraseMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<void> {
  await jsm.streams.deleteMessage(stream, seq, true).catch((err: Error) => {
    // Already gone (erased by a concurrent delete, or expired): nothing left to erase.
    if (!/no message found|not found/i.test(err.message)) throw err;
  });
}

/**
 * The server's own index of a stream's subjects may still list an erased key: nats-server
 * 2.10+ keeps every subject in `msgs/index.db`, rewritten only every two minutes; 2.9
 * keeps a block's subjects in `<n>.fss`, rewritten when the block idles. A purge of the
 * messages below the stream's first sequence removes no message (the first sequence only
 * grows), but makes the server compact from there: 2.10 removes index.db (written again,
 * without the key, at its next save) and 2.9 rewrites a half-deleted first block and its
 * .fss. Best effort: on failure the index goes at its next rewrite.
 */
export async function dropStaleIndex(jsm: JetStreamManager, stream: string): Promise<void> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages > 0) await jsm.streams.purge(stream, { seq: info.state.first_seq });
}

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
