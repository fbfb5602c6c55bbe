import type { KV } from '@nats-io/kv';
import type { AlertEvent, FacesMessage, RoomAnalysisConfig, StreamMetricsEvent } from '@lookout/contracts';
import type { KvMirror, Logger } from '@lookout/service-kit';
import type { EventPublisher } from './event-publisher.js';
import type { RecognitionGate } from './recognition-gate.js';
import type { FlushedMetrics, FrameInput, FrameOutcome, TaggedTransition } from './core/advance.js';
import type { ObservedFace } from './core/types.js';
import type { SubjectRefs } from './state-pseudonyms.js';
import { decodeVector, encodeVector } from '../embedding/vector-codec.js';

export interface StreamEventsOptions {
  publisher: EventPublisher;
  gate: RecognitionGate;
  faceRefs: KV;
  log: Logger;
  recognition: { cooldownMs: number; rejectUnknown: boolean };
  rooms: KvMirror<RoomAnalysisConfig>;
  refs: SubjectRefs;
}

/** Alerts that name a face keep its embedding, so an operator can say "not this subject". */
const KINDS_WITH_FACE = new Set(['identity_changed', 'unknown_person']);

/**
 * What a committed frame tells the outside world: alert transitions, the second of
 * metrics it closed, and recognition events (PASS/REJECT) under the shared cooldown.
 * Runs only after the state write succeeded, so a transition is emitted by the one
 * replica whose write won.
 */
export class StreamEvents {
  constructor(private readonly o: StreamEventsOptions) {}

  async emit(msg: FacesMessage, input: FrameInput, outcome: FrameOutcome, observed: ObservedFace[]): Promise<void> {
    const embeddingOf = (trackId: string) => observed[outcome.faces.findIndex((f) => f.trackId === trackId)]?.embedding ?? trackEmbedding(outcome, trackId);
    await this.publish(msg, outcome.transitions, outcome.metrics, embeddingOf);
    await this.recognitions(msg, input, outcome);
  }

  /** Alert transitions and flushed seconds of one stream (also used when a stream ends). */
  async publish(
    at: { room: string; stream: string; seq: number },
    transitions: TaggedTransition[],
    metrics: FlushedMetrics[],
    embeddingOf: (trackId: string) => Float32Array | null = () => null,
  ): Promise<void> {
    for (const t of transitions) await this.o.publisher.alert(await this.alertEvent(at, t, embeddingOf));
    for (const m of metrics) await this.o.publisher.metrics(withStream(at, m) as StreamMetricsEvent);
  }

  private async alertEvent(at: { room: string; stream: string; seq: number }, t: TaggedTransition, embeddingOf: (trackId: string) => Float32Array | null): Promise<AlertEvent> {
    const { sessionId, trackId, ...rest } = t;
    const event: AlertEvent = { ...rest, room: at.room, stream: at.stream, ...(sessionId ? { sessionId } : {}) };
    const track = trackId ?? t.to?.trackId;
    const embedding = t.state === 'open' && track && KINDS_WITH_FACE.has(t.kind) ? embeddingOf(track) : null;
    if (track && embedding) event.faceRef = await this.faceRef(at, track, embedding);
    return event;
  }

  private async recognitions(msg: FacesMessage, input: FrameInput, outcome: FrameOutcome): Promise<void> {
    const room = this.o.rooms.get(msg.room)?.recognition;
    if (room?.enabled === false) return;
    const cooldownMs = room?.cooldownMs ?? this.o.recognition.cooldownMs;
    const rejectUnknown = room?.rejectUnknown ?? this.o.recognition.rejectUnknown;
    for (const f of outcome.faces) {
      const id = f.identity;
      if (!id || (id.subjectId === null && !rejectUnknown)) continue;
      // A subject's cooldown key holds its ref, not its id: replaced revisions of the key
      // cannot be erased (gallery delete). No ref: the subject was deleted just now.
      const ref = id.subjectId ? this.o.refs.refOf(id.subjectId) : undefined;
      if (id.subjectId && ref === undefined) continue;
      const key = ref !== undefined ? `${msg.room}.${ref}` : `${msg.room}.${msg.stream}_${f.trackId}`;
      if (!(await this.o.gate.claim(key, msg.captureMs, cooldownMs))) continue;
      const embedding = f.embedding ?? trackEmbedding(outcome, f.trackId);
      const faceRef = embedding ? await this.faceRef(msg, f.trackId, embedding) : undefined;
      await this.o.publisher.recognition({
        id: `${msg.room}.${msg.stream}.${msg.seq}.${f.trackId}`,
        room: msg.room,
        stream: msg.stream,
        ...(input.sessionId ? { sessionId: input.sessionId } : {}),
        seq: msg.seq,
        captureMs: msg.captureMs,
        trackId: f.trackId,
        decision: id.subjectId ? 'PASS' : 'REJECT',
        subjectId: id.subjectId,
        name: id.name,
        similarity: id.similarity,
        ...(faceRef ? { faceRef } : {}),
      });
    }
  }

  private async faceRef(at: { room: string; stream: string; seq: number }, trackId: string, embedding: Float32Array): Promise<string | undefined> {
    const key = `${at.room}.${at.stream}.${at.seq}.${trackId}`;
    try {
      await this.o.faceRefs.put(key, encodeVector(embedding));
      return key;
    } catch (err) {
      this.o.log.warn({ err, key }, 'could not keep a face ref');
      return undefined;
    }
  }
}

/**
 * A face not embedded in this frame (its track's look had not changed) is referred to by
 * its track's mean embedding, which is what identified it.
 */
function trackEmbedding(outcome: FrameOutcome, trackId: string): Float32Array | null {
  const track = outcome.state.tracker.tracks.find((t) => t.id === trackId);
  return track?.embedding ? decodeVector(track.embedding) : null;
}

function withStream<T extends { sessionId: string | null }>(at: { room: string; stream: string }, m: T): Omit<T, 'sessionId'> & { room: string; stream: string; sessionId?: string } {
  const { sessionId, ...rest } = m;
  return { ...rest, room: at.room, stream: at.stream, ...(sessionId ? { sessionId } : {}) };
}
