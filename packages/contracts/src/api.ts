import { Type, type Static } from '@sinclair/typebox';
import { GalleryRequests, ImageResult, SubjectSummary } from './gallery.js';
import { RoomAnalysisConfig } from './analysis-config.js';
import { AlertEvent } from './events.js';
import { ErrorBody } from './errors.js';
import { Id } from './ids.js';
import { ALERT_KINDS, RuleThresholds } from './rules.js';
import { StreamInfo } from './sfu.js';
import { validator } from './validation.js';

/**
 * The gateway's REST API (`/api/v1`), the only public HTTP surface. Every error is
 * `ErrorResponse`; the OpenAPI document at `/openapi.json` is built from these schemas.
 */
export const API_PREFIX = '/api/v1';

/** Every REST error: `{ error: ErrorBody }` with a stable code (errors.ts). */
export const ErrorResponse = Type.Object({ error: ErrorBody }, { $id: 'ErrorResponse' });
export type ErrorResponse = Static<typeof ErrorResponse>;

export const ROOM_ROLES = ['publisher', 'viewer'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];
export const RoomRole = Type.Union(ROOM_ROLES.map((r) => Type.Literal(r)));

export const TokenRequest = Type.Object(
  {
    room: Id,
    role: RoomRole,
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400, description: 'Default: TOKEN_TTL_S' })),
    peer: Type.Optional(Id),
  },
  { $id: 'TokenRequest', additionalProperties: false },
);
export type TokenRequest = Static<typeof TokenRequest>;
export const tokenRequest = validator('token request', TokenRequest);

/**
 * One TURN server for the browser's `RTCPeerConnection` (mediasoup-client's transport
 * option `iceServers`): coturn's shared-secret REST credentials, `username` =
 * `<expiry unix seconds>:<peer>`, `credential` = base64(HMAC-SHA1(TURN_SECRET, username)),
 * valid until that expiry (never after the room token's). Only when the gateway has TURN_URLS.
 */
export const IceServer = Type.Object(
  {
    urls: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'TURN URLs, e.g. `turn:turn.example.com:3478?transport=udp`' }),
    username: Type.String({ description: '`<expiry unix seconds>:<peer>`' }),
    credential: Type.String({ description: 'base64(HMAC-SHA1(TURN_SECRET, username))' }),
  },
  { additionalProperties: false },
);
export type IceServer = Static<typeof IceServer>;
export const IceServers = Type.Array(IceServer, {
  description: 'TURN servers with short-lived credentials for this peer (TURN_URLS; absent when the gateway has none). They expire with the token or after TURN_TTL_S, whichever is first',
});

export const TokenReply = Type.Object(
  { token: Type.String(), room: Id, role: RoomRole, peer: Id, expiresMs: Type.Integer(), iceServers: Type.Optional(IceServers) },
  { $id: 'TokenReply' },
);
export type TokenReply = Static<typeof TokenReply>;

/** What a signed room token carries. */
export interface RoomTokenClaims {
  room: string;
  role: RoomRole;
  peer: string;
  /** Expiry, seconds since epoch (JWT `exp`). */
  exp: number;
}

export const RoomCreate = Type.Object(
  {
    room: Id,
    sampleFps: Type.Optional(Type.Number({ minimum: 0.1, maximum: 30 })),
    config: Type.Optional(RoomAnalysisConfig),
  },
  { $id: 'RoomCreate', additionalProperties: false },
);
export type RoomCreate = Static<typeof RoomCreate>;
export const roomCreate = validator('room', RoomCreate);

export const RoomInfo = Type.Object(
  {
    room: Id,
    instance: Id,
    sinceMs: Type.Integer(),
    sampleFps: Type.Number({ description: 'Frames per second sampled from each stream' }),
    streams: Type.Array(StreamInfo),
    config: RoomAnalysisConfig,
  },
  { $id: 'RoomInfo' },
);
export type RoomInfo = Static<typeof RoomInfo>;

export const IngestCreate = Type.Object(
  {
    stream: Id,
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'rtsp(s):// URL or a file under the SFU\'s INGEST_FILE_ROOT' }),
    loop: Type.Optional(Type.Boolean()),
  },
  { $id: 'IngestCreate', additionalProperties: false },
);
export type IngestCreate = Static<typeof IngestCreate>;
export const ingestCreate = validator('ingest', IngestCreate);

export const SessionStart = Type.Object(
  {
    room: Id,
    stream: Id,
    expectedSubjectId: Type.Optional(Id),
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]), { maxProperties: 32 })),
    rules: Type.Optional(RuleThresholds),
  },
  { $id: 'SessionStart', additionalProperties: false },
);
export type SessionStart = Static<typeof SessionStart>;
export const sessionStart = validator('session', SessionStart);

/**
 * Who started a session: an admin, or a publisher token (its peer). It decides who may end
 * it: a publisher ends only what its own peer started, never monitoring an admin set up.
 * A record without it (older gateways) counts as an admin's.
 */
export const SessionStarter = Type.Union(
  [Type.Object({ role: Type.Literal('admin') }, { additionalProperties: false }), Type.Object({ role: Type.Literal('publisher'), peer: Id }, { additionalProperties: false })],
  { $id: 'SessionStarter' },
);
export type SessionStarter = Static<typeof SessionStarter>;

export const SessionInfo = Type.Object(
  {
    sessionId: Id,
    room: Id,
    stream: Id,
    expectedSubjectId: Type.Optional(Id),
    expectedSubjectErased: Type.Optional(Type.Literal(true, { description: 'The expected subject was deleted from the gallery: its id was erased from this session' })),
    metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    rules: Type.Optional(RuleThresholds),
    status: Type.Union([Type.Literal('running'), Type.Literal('ended')]),
    startedMs: Type.Integer(),
    startedBy: Type.Optional(SessionStarter),
    endedMs: Type.Optional(Type.Integer()),
    recording: Type.Optional(
      Type.Object(
        {
          jobId: Id,
          videoBaseMs: Type.Integer({ description: 'Capture time of video time 0: a time t of this session is at video time t − videoBaseMs' }),
          durationMs: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false, description: 'The session is a recording job\'s (docs/jobs.md): its times are video times shifted by videoBaseMs' },
      ),
    ),
    streamEnd: Type.Optional(
      Type.Object(
        { ok: Type.Boolean(), closedEpisodes: Type.Optional(Type.Integer({ minimum: 0 })), error: Type.Optional(Type.String()) },
        { description: 'What reid answered when the session ended (`reid.end_stream`); ok=false when reid was unreachable: open episodes then close with the next frame of the stream' },
      ),
    ),
  },
  { $id: 'SessionInfo' },
);
export type SessionInfo = Static<typeof SessionInfo>;
export const sessionInfo = validator('session info', SessionInfo);

const ScoreSummary = Type.Union([Type.Object({ mean: Type.Number(), min: Type.Number(), max: Type.Number(), p10: Type.Number(), p90: Type.Number() }), Type.Null()]);
const Timeline = Type.Array(Type.Tuple([Type.Integer({ description: 'ms since epoch' }), Type.Union([Type.Number(), Type.Null()])]));

const SeenSpan = {
  firstSeenMs: Type.Integer({ description: 'Start of the first analysed second in view (capture clock, ms since epoch)' }),
  lastSeenMs: Type.Integer({ description: 'End of the last analysed second in view: per-second resolution, so a continuous stay spans secondsInView seconds' }),
  secondsInView: Type.Integer({ minimum: 0, description: 'Analysed seconds with this person in view in at least one frame' }),
};

/** Who was here, and when: built from the `people` of the per-second metrics (docs/gateway.md). */
export const SessionAttendance = Type.Object(
  {
    people: Type.Array(
      Type.Object({
        subjectId: Id,
        name: Type.Union([Type.String(), Type.Null()]),
        ...SeenSpan,
        tracks: Type.Integer({ minimum: 1, description: 'Distinct tracks identified as this subject (each time they came back into view, a new one)' }),
      }),
      { description: 'Identified people, by first seen' },
    ),
    unknown: Type.Object(
      {
        tracks: Type.Integer({ minimum: 0, description: 'Distinct tracks never identified as a gallery subject: each one a person (or the same person seen again after leaving), not a frame' }),
        secondsInView: Type.Integer({ minimum: 0, description: 'Analysed seconds with at least one unknown person in view' }),
        list: Type.Array(Type.Object({ track: Type.String(), ...SeenSpan }), { description: 'The unknown tracks by first seen (the first 100)' }),
      },
      { description: 'Tracks seen in fewer than 3 frames are left out: a false detection is not a person' },
    ),
    truncatedSeconds: Type.Integer({ minimum: 0, description: 'Seconds whose list of people was capped (32): someone may be missing from them' }),
  },
  { $id: 'SessionAttendance' },
);
export type SessionAttendance = Static<typeof SessionAttendance>;

export const SessionReport = Type.Object(
  {
    session: SessionInfo,
    generatedMs: Type.Integer({ description: 'When this report was rebuilt from the event stream' }),
    durationMs: Type.Integer({ minimum: 0, description: 'Session start to end (or to now while it runs), never shorter than the span of its own analysed seconds and episodes (which may be stamped by another clock)' }),
    framesAnalysed: Type.Integer({ minimum: 0 }),
    principalPresent: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'Share of analysed frames with the principal in view; time without analysis (`gaps`) counts neither way',
    }),
    analysedShare: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'Share of the session\'s seconds that have analysis; null before its first second',
    }),
    gaps: Type.Array(
      Type.Object({
        startMs: Type.Integer({ description: 'The first second without analysis' }),
        endMs: Type.Union([Type.Integer(), Type.Null()], { description: 'When analysis resumed; null: not yet (the session runs and nothing arrives)' }),
      }),
      {
        description:
          'Spans of the session of 3 s or more with no analysed second: the stream was not analysed (camera or publisher gone, tap stalled, a service down), so nothing is known of them — not presence, not absence',
      },
    ),
    scores: Type.Object({ engagement: ScoreSummary, eyeContact: ScoreSummary, positivity: ScoreSummary, postureStability: ScoreSummary, confidence: ScoreSummary }),
    timelines: Type.Object({
      engagement: Timeline,
      eyeContact: Timeline,
      positivity: Timeline,
      expression: Type.Array(Type.Tuple([Type.Integer(), Type.String({ description: 'Dominant expression of that second' })])),
    }),
    alerts: Type.Array(
      Type.Object({
        id: Type.String(),
        kind: Type.String(),
        severity: Type.String(),
        startMs: Type.Integer(),
        endMs: Type.Union([Type.Integer(), Type.Null()]),
        videoMs: Type.Optional(Type.Integer({ description: 'A recording\'s session only: the episode\'s start in video time (startMs − recording.videoBaseMs)' })),
        message: Type.String(),
        from: Type.Optional(AlertEvent.properties.from),
        to: Type.Optional(AlertEvent.properties.to),
      }),
    ),
    identity: Type.Object({
      expectedSubjectId: Type.Union([Id, Type.Null()]),
      recognized: Type.Array(
        Type.Object({
          subjectId: Type.Union([Id, Type.Null()]),
          name: Type.Union([Type.String(), Type.Null()]),
          decision: Type.String(),
          count: Type.Integer(),
          firstMs: Type.Integer(),
          bestSimilarity: Type.Number(),
        }),
      ),
      changes: Type.Integer({ minimum: 0, description: 'identity_changed episodes' }),
      verified: Type.Union([Type.Boolean(), Type.Null()], { description: 'The expected subject was recognised and never replaced; null without an expected subject' }),
    }),
    attendance: SessionAttendance,
  },
  { $id: 'SessionReport' },
);
export type SessionReport = Static<typeof SessionReport>;

export const WEBHOOK_EVENTS = ['alert', 'recognition', 'metrics'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
export const WebhookCreate = Type.Object(
  {
    // No `format: 'uri'`: no format is registered with TypeBox; the gateway parses the URL.
    url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://', description: 'http(s) URL; its host must resolve to an allowed address' }),
    events: Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { minItems: 1, uniqueItems: true }),
    alertKinds: Type.Optional(Type.Array(Type.Union(ALERT_KINDS.map((k) => Type.Literal(k))), { minItems: 1, maxItems: 20, uniqueItems: true, description: 'Only these alert kinds (default: all)' })),
    rooms: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'Only these rooms (default: all)' })),
    secret: Type.String({ minLength: 16, maxLength: 256, description: 'HMAC-SHA256 key, never returned. Each request carries `X-Lookout-Event-Id` (stable across retries: deduplicate by it), `X-Lookout-Timestamp` (Unix seconds) and `X-Lookout-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`' }),
  },
  { $id: 'WebhookCreate', additionalProperties: false },
);
export type WebhookCreate = Static<typeof WebhookCreate>;
export const webhookCreate = validator('webhook', WebhookCreate);

export const WebhookInfo = Type.Object(
  {
    id: Id,
    url: Type.String(),
    events: Type.Array(Type.String()),
    alertKinds: Type.Optional(Type.Array(Type.String())),
    rooms: Type.Optional(Type.Array(Id)),
    enabled: Type.Boolean(),
    disabledReason: Type.Optional(Type.String()),
    disabledMs: Type.Optional(Type.Integer()),
    consecutiveFailures: Type.Integer({ minimum: 0 }),
    createdMs: Type.Integer(),
  },
  { $id: 'WebhookInfo' },
);
export type WebhookInfo = Static<typeof WebhookInfo>;

export const WEBHOOK_OUTCOMES = ['delivered', 'retry', 'given_up'] as const;
export const WebhookDelivery = Type.Object(
  {
    eventId: Type.String(),
    type: Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))),
    subject: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    atMs: Type.Integer(),
    ok: Type.Boolean(),
    outcome: Type.Union(WEBHOOK_OUTCOMES.map((o) => Type.Literal(o)), { description: 'delivered (2xx), retry (failed, will be retried), given_up (failed on the last attempt)' }),
    status: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String()),
    durationMs: Type.Number(),
  },
  { $id: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const EnrollJob = Type.Object(
  {
    jobId: Id,
    status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
    total: Type.Integer({ minimum: 0 }),
    processed: Type.Integer({ minimum: 0 }),
    results: Type.Array(
      Type.Object({
        entry: Type.String(),
        person: Type.Optional(Type.String()),
        ok: Type.Boolean(),
        subjectId: Type.Optional(Id),
        error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
      }),
    ),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    createdMs: Type.Integer(),
    updatedMs: Type.Integer(),
  },
  { $id: 'EnrollJob' },
);
export type EnrollJob = Static<typeof EnrollJob>;

// Gallery admin (the gateway's face of reid's `gallery.<op>`). Multipart routes carry these
// fields as form fields (metadata as a JSON string) beside the image files.
const subjectFields = GalleryRequests.enroll.properties;

export const GalleryEnrollFields = Type.Object(
  { name: subjectFields.name, subjectId: subjectFields.subjectId, metadata: subjectFields.metadata },
  { $id: 'GalleryEnrollFields', additionalProperties: false },
);
export type GalleryEnrollFields = Static<typeof GalleryEnrollFields>;
export const galleryEnrollFields = validator('enrollment', GalleryEnrollFields);

export const GallerySubjectUpdate = Type.Object(
  { name: subjectFields.name, metadata: subjectFields.metadata },
  { $id: 'GallerySubjectUpdate', additionalProperties: false, description: 'Rename; metadata, when given, replaces the old' },
);
export type GallerySubjectUpdate = Static<typeof GallerySubjectUpdate>;

export const GalleryNegativeCreate = Type.Object(
  { faceRef: Type.String({ minLength: 1, maxLength: 200, description: 'The face ref of an alert or recognition event that is not this subject' }) },
  { $id: 'GalleryNegativeCreate', additionalProperties: false },
);
export type GalleryNegativeCreate = Static<typeof GalleryNegativeCreate>;

export const GallerySubjectReply = Type.Object({ subject: SubjectSummary }, { $id: 'GallerySubjectReply' });
export const GalleryEnrollReply = Type.Object(
  { subject: SubjectSummary, images: Type.Array(ImageResult, { description: 'One verdict per uploaded image, in upload order' }) },
  { $id: 'GalleryEnrollReply' },
);
export const GallerySubjectList = Type.Object(
  { subjects: Type.Array(SubjectSummary), total: Type.Integer({ minimum: 0 }), offset: Type.Integer({ minimum: 0 }), limit: Type.Integer({ minimum: 1 }) },
  { $id: 'GallerySubjectList' },
);
export const GalleryDeleteReply = Type.Object({ subjectId: Id }, { $id: 'GalleryDeleteReply' });
