import { Type, type Static } from '@sinclair/typebox';
import { IceServers, RoomRole } from './api.js';
import { AlertEvent, StreamMetricsEvent } from './events.js';
import { AnalysisMessage } from './faces.js';
import { FRAME_LIMITS } from './frame.js';
import { Id } from './ids.js';
import { JobInfo } from './jobs.js';
import { SfuEvent, sfuRequests, type SfuOp } from './sfu.js';
import { validator } from './validation.js';

/**
 * The gateway's single WebSocket endpoint: one connection per browser.
 *
 * 1. Authenticate: `join {room, token}` with a room token for that room (or an admin API
 *    key), or `?token=` on the URL (a room token there joins its room at once). A socket
 *    that has not joined within WS_JOIN_TIMEOUT_MS is closed with 4401. The first join of a
 *    room creates it on the least-loaded SFU. Join again with a fresh token before `exp`:
 *    when a room's token expires the socket is closed with 4401.
 * 2. `subscribe {room, feeds?}` to the room's `analysis`, `alerts` and `metrics` (default
 *    those three); every socket that joined or subscribed to a room also gets its
 *    `sfuevent`s. `preview` (viewers and admins only, asked for by name) sends the frames
 *    of streams fed by fallback upload as small JPEGs, at most PREVIEW_LIMITS.maxFps per
 *    stream, so a dashboard can show the picture being analysed when there is no SFU video.
 *    A publisher socket (the person proctored) gets `analysis`, `alert` and `metrics` only
 *    of its own peer's streams, and without gallery identities: every face's `identity` is
 *    null, the principal's `subjectId`/`name` are null, an alert's `from`/`to` have
 *    `subjectId`/`name` null and no `similarity`, no `faceRef`, and an `identity_changed`
 *    message names nobody (the same schemas; identification is for viewers and admins).
 * 3. `signal {id, op, data}` forwards one SFU signaling op (docs/sfu.md) for the joined
 *    room; the gateway sets `room` and `peer` from the token, so `data` carries neither (or
 *    the same values). Roles: `WS_SIGNAL_OPS`. A transport, producer or consumer can only be
 *    used by the socket that created it; closing the socket closes its transports. Their
 *    number is capped per socket (gateway) and per peer and room (SFU): over a cap,
 *    `too_many_transports` / `too_many_producers` / `too_many_consumers`.
 * 4. Fallback frame upload (publishers and admins): a `frame {stream, seq, captureMs, …}`
 *    text message, then the JPEG as the next binary message, to a stream the socket owns
 *    (not an ingest's, not another peer's: `stream_not_owned`); it is published on
 *    `frames.<room>.<stream>` exactly like the SFU's tap, so the pipeline is the same, and
 *    at most PREVIEW_LIMITS.maxFps of them, downscaled, on `previews.<room>.<stream>` for
 *    the `preview` feed.
 *
 * Replies: `ack` (echoing `id`), `signal` (the SFU's data), or `error {code, message, field,
 * id}`. Refusals close the socket after the error: 4401 for a missing, malformed, unknown or
 * expired credential, 4403 for a wrong room, role or peer. Backpressure: each socket has a
 * bounded queue; when it is full the oldest `preview` is dropped first, then the oldest
 * `analysis`, then the oldest `metrics` (and a socket holds only its newest few previews);
 * alerts, acks, errors and signal replies are never dropped. A socket that does
 * not take its messages for WS_STUCK_MS (or whose queue fills with messages that cannot be
 * dropped) is closed with 4008. The server pings every WS_HEARTBEAT_MS and drops a peer that
 * missed the previous pong.
 */
export const WS_PATH = '/ws';

/** Close codes (4000–4999 are the application's; 4401/4403 mirror HTTP 401/403). */
export const WS_CLOSE = {
  goingAway: 1001,
  tooLarge: 1009,
  stuck: 4008,
  unauthorized: 4401,
  forbidden: 4403,
} as const;

export const WS_FEEDS = ['analysis', 'alerts', 'metrics', 'preview', 'job'] as const;
export type WsFeed = (typeof WS_FEEDS)[number];
export const WsFeed = Type.Union(WS_FEEDS.map((f) => Type.Literal(f)));
/** What `subscribe` without `feeds` follows: previews cost bandwidth and are asked for by name; `job` is the progress of a recording job's room (rec-<jobId>). */
export const WS_DEFAULT_FEEDS = ['analysis', 'alerts', 'metrics'] as const satisfies readonly WsFeed[];
/** Roles that may follow `preview`: the people watching a room, not the ones in it. */
export const WS_PREVIEW_ROLES = ['viewer', 'admin'] as const satisfies readonly WsRole[];

/**
 * Bounds of the `preview` feed, enforced by the gateway: the uploaded frame is scaled to
 * fit maxWidth × maxHeight, and one frame per stream is sent at most every 1 / maxFps s.
 * A preview over maxBytes is not sent.
 */
export const PREVIEW_LIMITS = { maxFps: 2, maxWidth: 320, maxHeight: 240, maxBytes: 48 * 1024 } as const;

/** What a socket is in a room: a token's role, or `admin` (API key). */
export const WsRole = Type.Union([RoomRole, Type.Literal('admin')]);
export type WsRole = Static<typeof WsRole>;

const VIEWER_OPS = ['getRouterRtpCapabilities', 'createWebRtcTransport', 'connectTransport', 'restartIce', 'closeTransport', 'consume', 'resumeConsumer', 'listStreams', 'getRoom'] as const;

/** What a publisher's page needs: send its camera, and read its room as `GET /rooms/:room` does. */
const PUBLISHER_OPS = ['getRouterRtpCapabilities', 'createWebRtcTransport', 'connectTransport', 'restartIce', 'closeTransport', 'produce', 'closeProducer', 'listStreams', 'getRoom'] as const;

/**
 * SFU ops each token role may forward. Viewers receive media only (`createWebRtcTransport`
 * with `direction: "recv"`); publishers send only: no `consume` or `resumeConsumer`, so the
 * person proctored cannot watch the other candidates of the room (issue 17). Admins may use
 * every op, room control included (`setSampleRate`, `ingest`, `closeRoom`, …).
 */
export const WS_SIGNAL_OPS: Record<RoomRole, readonly SfuOp[]> = {
  viewer: VIEWER_OPS,
  publisher: PUBLISHER_OPS,
};

const SignalOp = Type.Union((Object.keys(sfuRequests) as SfuOp[]).map((op) => Type.Literal(op)));
const RequestId = Type.String({ maxLength: 64, description: 'Echoed in the reply' });
const Feeds = Type.Array(WsFeed, { minItems: 1, maxItems: WS_FEEDS.length, uniqueItems: true, description: 'subscribe: default analysis, alerts, metrics; unsubscribe: default all' });

export const ClientJoin = Type.Object(
  {
    type: Type.Literal('join'),
    room: Id,
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Room token for `room`, or an admin API key; may be left out after `?token=`' })),
    peer: Type.Optional(Id),
    id: Type.Optional(RequestId),
  },
  { additionalProperties: false, description: '`peer` is for admins; a room token names its own peer' },
);
export const ClientSubscribe = Type.Object({ type: Type.Literal('subscribe'), room: Id, feeds: Type.Optional(Feeds), id: Type.Optional(RequestId) }, { additionalProperties: false });
export const ClientUnsubscribe = Type.Object({ type: Type.Literal('unsubscribe'), room: Id, feeds: Type.Optional(Feeds), id: Type.Optional(RequestId) }, { additionalProperties: false });
export const ClientSignal = Type.Object(
  {
    type: Type.Literal('signal'),
    id: RequestId,
    op: SignalOp,
    room: Type.Optional(Id),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The op\'s body (docs/sfu.md) without `room` and `peer`' })),
  },
  { additionalProperties: false, description: '`room` is needed only when the socket joined several rooms' },
);
export const ClientFrame = Type.Object(
  {
    type: Type.Literal('frame'),
    stream: Id,
    seq: Type.Integer({ minimum: 0 }),
    captureMs: Type.Integer({ minimum: 0 }),
    width: Type.Optional(Type.Integer({ minimum: 1, maximum: FRAME_LIMITS.maxWidth })),
    height: Type.Optional(Type.Integer({ minimum: 1, maximum: FRAME_LIMITS.maxHeight })),
    room: Type.Optional(Id),
    id: Type.Optional(RequestId),
  },
  { additionalProperties: false, description: 'Announces the JPEG sent as the next binary message; size read from the JPEG unless given; acked only when `id` is set' },
);
export const ClientPing = Type.Object({ type: Type.Literal('ping'), id: Type.Optional(RequestId) }, { additionalProperties: false });

export const ClientMessage = Type.Union([ClientJoin, ClientSubscribe, ClientUnsubscribe, ClientSignal, ClientFrame, ClientPing], { $id: 'ClientMessage' });
export type ClientMessage = Static<typeof ClientMessage>;
export const clientMessage = validator('websocket message', ClientMessage);

export const ServerAck = Type.Object({
  type: Type.Literal('ack'),
  id: Type.Optional(Type.String()),
  op: Type.Union([Type.Literal('join'), Type.Literal('subscribe'), Type.Literal('unsubscribe'), Type.Literal('ping'), Type.Literal('frame')]),
  room: Type.Optional(Id),
  feeds: Type.Optional(Type.Array(WsFeed, { description: 'subscribe/unsubscribe: the room\'s feeds now' })),
  role: Type.Optional(WsRole),
  peer: Type.Optional(Id),
  sfu: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'join: the SFU instance owning the room; null when none could be reached (signaling tries again)' })),
  expiresMs: Type.Optional(Type.Integer({ description: 'join: when the token expires' })),
  iceServers: Type.Optional(IceServers),
  seq: Type.Optional(Type.Integer({ description: 'frame: the published frame\'s seq' })),
});
export const ServerError = Type.Object({
  type: Type.Literal('error'),
  id: Type.Optional(Type.String()),
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
export const ServerAnalysis = Type.Object({ type: Type.Literal('analysis'), data: AnalysisMessage });
export const ServerAlert = Type.Object({ type: Type.Literal('alert'), data: AlertEvent });
export const ServerMetrics = Type.Object({ type: Type.Literal('metrics'), data: StreamMetricsEvent });
export const ServerSignal = Type.Object({ type: Type.Literal('signal'), id: Type.String(), op: SignalOp, data: Type.Unknown() });
export const ServerSfuEvent = Type.Object({ type: Type.Literal('sfuevent'), data: SfuEvent });
export const ServerClosing = Type.Object({ type: Type.Literal('closing'), code: Type.Integer(), reason: Type.String() });
export const ServerPreview = Type.Object(
  {
    type: Type.Literal('preview'),
    data: Type.Object({
      room: Id,
      stream: Id,
      seq: Type.Integer({ minimum: 0, description: 'The uploaded frame\'s seq: its analysis carries the same' }),
      captureMs: Type.Integer({ minimum: 0, description: 'The uploaded frame\'s capture time: its analysis carries the same' }),
      width: Type.Integer({ minimum: 1, maximum: PREVIEW_LIMITS.maxWidth, description: 'Of the preview, not of the analysed frame' }),
      height: Type.Integer({ minimum: 1, maximum: PREVIEW_LIMITS.maxHeight }),
      jpeg: Type.String({ maxLength: Math.ceil(PREVIEW_LIMITS.maxBytes / 3) * 4, contentEncoding: 'base64', description: 'The downscaled frame, base64' }),
    }),
  },
  { description: 'A frame of a stream fed by fallback upload, downscaled (feed `preview`)' },
);

export const ServerJob = Type.Object({ type: Type.Literal('job'), data: JobInfo }, { description: 'Progress of the recording job whose room this is (feed `job`): at most every second, and at every change of status' });

export const ServerMessage = Type.Union([ServerAck, ServerAnalysis, ServerError, ServerAlert, ServerMetrics, ServerSignal, ServerSfuEvent, ServerClosing, ServerPreview, ServerJob], { $id: 'ServerMessage' });
export type ServerMessage = Static<typeof ServerMessage>;
export const serverMessage = validator('server message', ServerMessage);
