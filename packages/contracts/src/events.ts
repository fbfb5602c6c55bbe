import { Type, type Static } from '@sinclair/typebox';
import { Id } from './ids.js';
import { ALERT_KINDS, Severity } from './rules.js';
import { validator } from './validation.js';

/**
 * Events reid appends to the JetStream stream `LOOKOUT_EVENTS` (alerts, recognitions,
 * per-second metrics). Reports and webhooks are rebuilt from it; every message carries a
 * `Nats-Msg-Id` (see `eventMsgId`) so a retried publish is stored once.
 */

export const Person = Type.Object(
  {
    subjectId: Type.Union([Id, Type.Null()], { description: 'Gallery subject, or null for an unidentified person' }),
    name: Type.Union([Type.String(), Type.Null()]),
    similarity: Type.Optional(Type.Number()),
    trackId: Type.Optional(Type.String()),
  },
  { $id: 'Person' },
);
export type Person = Static<typeof Person>;

const StreamRef = {
  room: Id,
  stream: Id,
  sessionId: Type.Optional(Id),
};

/** One alert episode: published when it opens and again when it closes (same id). */
export const AlertEvent = Type.Object(
  {
    id: Type.String({ description: 'Episode id, the same in the open and the close event' }),
    kind: Type.Union(ALERT_KINDS.map((k) => Type.Literal(k))),
    severity: Severity,
    state: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
    ...StreamRef,
    startMs: Type.Integer({ minimum: 0, description: 'Capture time of the first frame of the episode' }),
    startSeq: Type.Integer({ minimum: 0 }),
    endMs: Type.Optional(Type.Integer({ minimum: 0, description: 'Capture time of the last frame where the condition held' })),
    endSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    message: Type.String(),
    from: Type.Optional(Person),
    to: Type.Optional(Person),
    faces: Type.Optional(Type.Integer({ minimum: 0 })),
    value: Type.Optional(Type.Number({ description: 'The measured quantity that triggered it (angle, score, …)' })),
    faceRef: Type.Optional(Type.String({ description: 'Handle of the face embedding, for "not this subject" feedback' })),
  },
  { $id: 'AlertEvent' },
);
export type AlertEvent = Static<typeof AlertEvent>;
export const alertEvent = validator('alert event', AlertEvent);

export const RecognitionEvent = Type.Object(
  {
    id: Type.String(),
    ...StreamRef,
    seq: Type.Integer({ minimum: 0 }),
    captureMs: Type.Integer({ minimum: 0 }),
    trackId: Type.String(),
    decision: Type.Union([Type.Literal('PASS'), Type.Literal('REJECT')]),
    subjectId: Type.Union([Id, Type.Null()]),
    name: Type.Union([Type.String(), Type.Null()]),
    similarity: Type.Number({ description: 'Best gallery similarity (cosine) after negative examples' }),
    faceRef: Type.Optional(Type.String()),
  },
  { $id: 'RecognitionEvent' },
);
export type RecognitionEvent = Static<typeof RecognitionEvent>;
export const recognitionEvent = validator('recognition event', RecognitionEvent);

const Score = Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]);

/** Most people one second of metrics lists (the ones in view the most frames). */
export const METRICS_PEOPLE_MAX = 32;

/**
 * One tracked person in view during a second: reid's track (stable within the stream's
 * session) and the track's identity at the end of that second. Names a subject, so a
 * gallery delete erases the events that carry it (docs/gallery.md).
 */
export const PersonInView = Type.Object(
  {
    track: Type.String({ description: 'Track id, stable for the stream within a session (across frames and replicas)' }),
    subjectId: Type.Union([Id, Type.Null()], { description: 'Gallery subject the track is identified as; null: not identified (yet, or not in the gallery)' }),
    name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    frames: Type.Integer({ minimum: 1, description: 'Frames of the second the track was seen in' }),
  },
  { $id: 'PersonInView' },
);
export type PersonInView = Static<typeof PersonInView>;

/** One second of one stream, aggregated over the frames analysed in it. */
export const StreamMetricsEvent = Type.Object(
  {
    ...StreamRef,
    second: Type.Integer({ minimum: 0, description: 'Capture time, whole seconds since epoch' }),
    frames: Type.Integer({ minimum: 0 }),
    facesMean: Type.Number({ minimum: 0 }),
    principalPresent: Type.Number({ minimum: 0, maximum: 1, description: 'Share of frames where the principal person was seen' }),
    scores: Type.Object({
      eyeContact: Score,
      engagement: Score,
      positivity: Score,
      postureStability: Score,
      confidence: Score,
    }),
    expressions: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Frames per dominant expression label' }),
    latencyMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'Mean capture → analysis latency' }),
    people: Type.Optional(
      Type.Array(PersonInView, {
        maxItems: METRICS_PEOPLE_MAX,
        description: `Tracks in view during the second, most frames first (at most ${METRICS_PEOPLE_MAX}); absent in events from before attendance`,
      }),
    ),
    peopleLeftOut: Type.Optional(Type.Integer({ minimum: 1, description: 'Tracks in view that second beyond the cap, not listed' })),
  },
  { $id: 'StreamMetricsEvent' },
);
export type StreamMetricsEvent = Static<typeof StreamMetricsEvent>;
export const streamMetricsEvent = validator('stream metrics event', StreamMetricsEvent);

/** Dedup id for JetStream (`Nats-Msg-Id`). */
export const eventMsgId = {
  alert: (a: Pick<AlertEvent, 'id' | 'state'>) => `alert:${a.id}:${a.state}`,
  recognition: (r: Pick<RecognitionEvent, 'id'>) => `recognition:${r.id}`,
  metrics: (m: Pick<StreamMetricsEvent, 'room' | 'stream' | 'second'>) => `metrics:${m.room}.${m.stream}:${m.second}`,
};
