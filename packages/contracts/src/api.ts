import { Type, type Static } from '@sinclair/typebox';
import { RoomAnalysisConfig } from './analysis-config.js';
import { AlertEvent } from './events.js';
import { Id } from './ids.js';
import { RuleThresholds } from './rules.js';
import { StreamInfo } from './sfu.js';
import { validator } from './validation.js';

/**
 * The gateway's REST API (`/api/v1`), the only public HTTP surface. Every error is
 * `ApiError`; the OpenAPI document at `/openapi.json` is built from these schemas.
 */
export const API_PREFIX = '/api/v1';

export const ApiError = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The offending field (JSON pointer without the leading slash)' })),
    }),
  },
  { $id: 'ApiError' },
);
export type ApiError = Static<typeof ApiError>;

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

export const TokenReply = Type.Object({ token: Type.String(), room: Id, role: RoomRole, peer: Id, expiresMs: Type.Integer() }, { $id: 'TokenReply' });
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

export const SessionInfo = Type.Object(
  {
    sessionId: Id,
    room: Id,
    stream: Id,
    expectedSubjectId: Type.Optional(Id),
    metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    rules: Type.Optional(RuleThresholds),
    status: Type.Union([Type.Literal('running'), Type.Literal('ended')]),
    startedMs: Type.Integer(),
    endedMs: Type.Optional(Type.Integer()),
  },
  { $id: 'SessionInfo' },
);
export type SessionInfo = Static<typeof SessionInfo>;
export const sessionInfo = validator('session info', SessionInfo);

const ScoreSummary = Type.Union([Type.Object({ mean: Type.Number(), min: Type.Number(), max: Type.Number(), p10: Type.Number(), p90: Type.Number() }), Type.Null()]);
const Timeline = Type.Array(Type.Tuple([Type.Integer({ description: 'ms since epoch' }), Type.Union([Type.Number(), Type.Null()])]));

export const SessionReport = Type.Object(
  {
    session: SessionInfo,
    durationMs: Type.Integer({ minimum: 0 }),
    framesAnalysed: Type.Integer({ minimum: 0 }),
    principalPresent: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
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
        message: Type.String(),
        from: Type.Optional(AlertEvent.properties.from),
        to: Type.Optional(AlertEvent.properties.to),
      }),
    ),
    identity: Type.Object({
      expectedSubjectId: Type.Union([Id, Type.Null()]),
      recognized: Type.Array(Type.Object({ subjectId: Type.Union([Id, Type.Null()]), name: Type.Union([Type.String(), Type.Null()]), decision: Type.String(), count: Type.Integer(), firstMs: Type.Integer() })),
      changes: Type.Integer({ minimum: 0, description: 'identity_changed episodes' }),
      verified: Type.Union([Type.Boolean(), Type.Null()], { description: 'The expected subject was recognised and never replaced; null without an expected subject' }),
    }),
  },
  { $id: 'SessionReport' },
);
export type SessionReport = Static<typeof SessionReport>;

export const WEBHOOK_EVENTS = ['alert', 'recognition', 'metrics'] as const;
export const WebhookCreate = Type.Object(
  {
    url: Type.String({ format: 'uri', minLength: 8, maxLength: 2048, pattern: '^https?://' }),
    events: Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { minItems: 1, uniqueItems: true }),
    alertKinds: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20, description: 'Only these alert kinds (default: all)' })),
    rooms: Type.Optional(Type.Array(Id, { maxItems: 100, description: 'Only these rooms (default: all)' })),
    secret: Type.String({ minLength: 16, maxLength: 256, description: 'HMAC-SHA256 key for the X-Lookout-Signature header' }),
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
    consecutiveFailures: Type.Integer({ minimum: 0 }),
    createdMs: Type.Integer(),
  },
  { $id: 'WebhookInfo' },
);
export type WebhookInfo = Static<typeof WebhookInfo>;

export const WebhookDelivery = Type.Object(
  {
    eventId: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    atMs: Type.Integer(),
    ok: Type.Boolean(),
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
