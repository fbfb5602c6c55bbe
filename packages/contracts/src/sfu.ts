import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Id, ID_PATTERN } from './ids.js';
import { validator } from './validation.js';

/**
 * SFU signaling, served on `sfu.<instance>.<op>` (see rpc.ts). mediasoup's own objects
 * (RTP capabilities and parameters, DTLS and ICE parameters) are checked for shape here and
 * in depth by mediasoup, whose message is passed back in the error reply.
 */
const MediasoupObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

const Fps = Type.Number({ minimum: 0.1, maximum: 30, description: 'Frames per second sampled onto NATS' });

export const sfuRequests = {
  createRoom: Type.Object({ room: Id, sampleFps: Type.Optional(Fps) }, { additionalProperties: false }),
  closeRoom: Type.Object({ room: Id }, { additionalProperties: false }),
  getRouterRtpCapabilities: Type.Object({ room: Id }, { additionalProperties: false }),
  createWebRtcTransport: Type.Object(
    { room: Id, peer: Id, direction: Type.Union([Type.Literal('send'), Type.Literal('recv')]) },
    { additionalProperties: false },
  ),
  connectTransport: Type.Object({ room: Id, transportId: Type.String({ maxLength: 64 }), dtlsParameters: MediasoupObject('mediasoup DtlsParameters') }, { additionalProperties: false }),
  restartIce: Type.Object({ room: Id, transportId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  closeTransport: Type.Object({ room: Id, transportId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  produce: Type.Object(
    {
      room: Id,
      peer: Id,
      transportId: Type.String({ maxLength: 64 }),
      stream: Id,
      kind: Type.Union([Type.Literal('video'), Type.Literal('audio')]),
      rtpParameters: MediasoupObject('mediasoup RtpParameters'),
    },
    { additionalProperties: false },
  ),
  closeProducer: Type.Object({ room: Id, producerId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  consume: Type.Object(
    { room: Id, peer: Id, transportId: Type.String({ maxLength: 64 }), producerId: Type.String({ maxLength: 64 }), rtpCapabilities: MediasoupObject('mediasoup RtpCapabilities') },
    { additionalProperties: false },
  ),
  resumeConsumer: Type.Object({ room: Id, consumerId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
  setSampleRate: Type.Object({ room: Id, fps: Fps }, { additionalProperties: false }),
  ingest: Type.Object(
    {
      room: Id,
      stream: Id,
      url: Type.String({ minLength: 1, maxLength: 2048, description: 'rtsp:// or rtsps:// URL, or a media file path under the SFU\'s INGEST_FILE_ROOT' }),
      loop: Type.Optional(Type.Boolean({ description: 'Files: start again at the end' })),
    },
    { additionalProperties: false },
  ),
  stopIngest: Type.Object({ room: Id, stream: Id }, { additionalProperties: false }),
  listStreams: Type.Object({ room: Id }, { additionalProperties: false }),
  /** The room's sample rate and streams. */
  getRoom: Type.Object({ room: Id }, { additionalProperties: false }),
} as const;

export type SfuOp = keyof typeof sfuRequests;
export type SfuRequest<O extends SfuOp> = Static<(typeof sfuRequests)[O]>;


/** The media: is video reaching the SFU (WebRTC producer, or the ingest's source)? */
export const StreamState = Type.Union(['starting', 'live', 'reconnecting', 'failed', 'closed'].map((s) => Type.Literal(s)), {
  description: 'Media state: whether video reaches the SFU. Analysis has its own state (`analysis`).',
});
export type StreamState = Static<typeof StreamState>;

/**
 * Analysis: are frames of the stream being sampled onto NATS (the frame tap)? A stream can
 * play fine while its analysis is unavailable, and the other way round; each says so itself.
 * - starting: the tap is starting (no failure since the last frame)
 * - live: frames flow
 * - retrying: the tap failed and is being started again (with backoff)
 * - stalled: the picture is not live although the tap runs: frames stopped coming (`stalled`),
 *   stopped changing (`frozen`) or came faster than the room's rate (`flooding`); the tap
 *   (and a stuck ingest) is being restarted. Never counted as a person present.
 * - unavailable: it keeps failing; still retried, and `reason` says why
 * - paused: the producer is paused, so there is nothing to sample
 */
export const AnalysisState = Type.Union(['starting', 'live', 'retrying', 'stalled', 'unavailable', 'paused'].map((s) => Type.Literal(s)));
export type AnalysisState = Static<typeof AnalysisState>;

/** Why a tap failed; also the `reason` label of `lookout_sfu_tap_failures_total`. */
export const TapFailureCode = Type.Union(
  ['no_port', 'setup', 'spawn', 'exited', 'no_frames', 'stalled', 'frozen', 'flooding'].map((s) => Type.Literal(s)),
  {
    description:
      'no_port: no free UDP port pair for ffmpeg; setup: mediasoup refused the tap transport; spawn: ffmpeg could not be run; exited: ffmpeg exited; no_frames: nothing decoded before the deadline; stalled: frames stopped; frozen: frames kept coming but the picture stopped changing (identical JPEGs); flooding: ffmpeg kept producing frames faster than the room rate',
  },
);
export type TapFailureCode = Static<typeof TapFailureCode>;

export const StreamAnalysis = Type.Object(
  {
    state: AnalysisState,
    sinceMs: Type.Integer({ minimum: 0, description: 'When this state began (ms since the epoch)' }),
    failures: Type.Integer({ minimum: 0, description: 'Consecutive tap failures since the last frame' }),
    code: Type.Optional(TapFailureCode),
    reason: Type.Optional(Type.String({ description: 'The last failure, in words (kept while retrying or unavailable)' })),
    lastFrameMs: Type.Optional(Type.Integer({ minimum: 0, description: 'When the last frame was published' })),
  },
  { $id: 'StreamAnalysis' },
);
export type StreamAnalysis = Static<typeof StreamAnalysis>;

/** How an ingest's video enters the SFU: passed through as it is, or decoded and encoded to VP8 (ingest/source-probe.ts). */
export const StreamIngest = Type.Object(
  {
    url: Type.String({ description: 'The source: a file path, or the camera URL with its password replaced by *** (the room record keeps the real one)' }),
    mode: Type.Union([Type.Literal('copy'), Type.Literal('encode')], { description: 'copy: the source\'s video routed as it is (-c:v copy); encode: decoded and encoded to VP8' }),
    codec: Type.Union([Type.Literal('VP8'), Type.Literal('H264')], { description: 'The codec the SFU routes (and viewers receive)' }),
    sourceCodec: Type.Optional(Type.String({ description: 'The source\'s video codec as ffprobe names it (h264, vp8, hevc...)' })),
    profileLevelId: Type.Optional(Type.String({ description: 'H.264 copied: the profile-level-id of the source\'s SPS, as the producer negotiates it' })),
    why: Type.String({ description: 'Why this path: what the source is, or what kept it from being copied' }),
  },
  { $id: 'StreamIngest' },
);
export type StreamIngest = Static<typeof StreamIngest>;

export const StreamInfo = Type.Object({
  stream: Id,
  source: Type.Union([Type.Literal('webrtc'), Type.Literal('ingest')]),
  peer: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'webrtc: the peer that produces it (only it may also upload frames to it)' })),
  producerId: Type.Optional(Type.String()),
  state: StreamState,
  error: Type.Optional(Type.String({ description: 'Why the media is not live' })),
  analysis: StreamAnalysis,
  framesPublished: Type.Integer({ minimum: 0 }),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  ingest: Type.Optional(StreamIngest),
});
export type StreamInfo = Static<typeof StreamInfo>;

const Nothing = Type.Null({ description: 'Done; nothing to return' });

/** What each signaling operation answers when it succeeds. */
export const sfuReplies = {
  createRoom: Type.Object({ room: Id, rtpCapabilities: MediasoupObject('mediasoup RtpCapabilities of the room\'s router') }),
  closeRoom: Nothing,
  getRouterRtpCapabilities: MediasoupObject('mediasoup RtpCapabilities'),
  createWebRtcTransport: Type.Object({
    id: Type.String(),
    iceParameters: MediasoupObject('mediasoup IceParameters'),
    iceCandidates: Type.Array(MediasoupObject('mediasoup IceCandidate')),
    dtlsParameters: MediasoupObject('mediasoup DtlsParameters'),
  }),
  connectTransport: Nothing,
  restartIce: Type.Object({ iceParameters: MediasoupObject('mediasoup IceParameters') }),
  closeTransport: Nothing,
  produce: Type.Object({ id: Type.String({ description: 'Producer id' }) }),
  closeProducer: Nothing,
  consume: Type.Object({ id: Type.String(), producerId: Type.String(), kind: Type.Union([Type.Literal('video'), Type.Literal('audio')]), rtpParameters: MediasoupObject('mediasoup RtpParameters') }),
  resumeConsumer: Nothing,
  setSampleRate: Nothing,
  ingest: Type.Object({ producerId: Type.String() }),
  stopIngest: Nothing,
  listStreams: Type.Array(StreamInfo),
  getRoom: Type.Object({ room: Id, sampleFps: Type.Number(), streams: Type.Array(StreamInfo) }),
} satisfies Record<SfuOp, TSchema>;
export type SfuReplyData<O extends SfuOp> = Static<(typeof sfuReplies)[O]>;

/** Events about a room's media and its analysis, on `sfuevents.<room>` (clients reconnect on worker_died). */
export const SfuEvent = Type.Union(
  [
    Type.Object({ type: Type.Literal('worker_died'), room: Id, instance: Type.String() }),
    Type.Object({ type: Type.Literal('stream_state'), room: Id, stream: Id, state: StreamState, error: Type.Optional(Type.String()) }),
    Type.Object({ type: Type.Literal('analysis_state'), room: Id, stream: Id, analysis: StreamAnalysis }),
    Type.Object({ type: Type.Literal('room_closed'), room: Id }),
  ],
  { $id: 'SfuEvent' },
);
export type SfuEvent = Static<typeof SfuEvent>;
export const sfuEvent = validator('sfu event', SfuEvent);

/** What an SFU instance advertises in `kvBuckets.sfuInstances` (heartbeat with TTL). */
export const SfuInstanceInfo = Type.Object({
  instance: Id,
  rooms: Type.Integer({ minimum: 0 }),
  streams: Type.Integer({ minimum: 0 }),
  workers: Type.Integer({ minimum: 0 }),
  updatedMs: Type.Integer({ minimum: 0 }),
});
export type SfuInstanceInfo = Static<typeof SfuInstanceInfo>;
export const sfuInstanceInfo = validator('sfu instance info', SfuInstanceInfo);

/**
 * Everything needed to build a room again on another worker or SFU (`kvBuckets.sfuRooms`,
 * key = room): its sample rate and its ingests. WebRTC streams are not in it: their
 * publishers rejoin by themselves (`worker_died`).
 */
export const SfuRoomRecord = Type.Object(
  {
    room: Id,
    sampleFps: Fps,
    ingests: Type.Array(
      Type.Object({ stream: Id, url: Type.String({ minLength: 1, maxLength: 2048 }), loop: Type.Boolean() }, { additionalProperties: false }),
      { maxItems: 256 },
    ),
    updatedMs: Type.Integer({ minimum: 0 }),
  },
  { $id: 'SfuRoomRecord', additionalProperties: false },
);
export type SfuRoomRecord = Static<typeof SfuRoomRecord>;
export const sfuRoomRecord = validator('sfu room record', SfuRoomRecord);

/** Which SFU instance owns a room (`kvBuckets.roomPlacement`, key = room). */
export const RoomPlacement = Type.Object({ instance: Id, sinceMs: Type.Integer({ minimum: 0 }) });
export type RoomPlacement = Static<typeof RoomPlacement>;
export const roomPlacement = validator('room placement', RoomPlacement);
