import { Type } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';

export const SfuConfig = configSchema(9101, {
  mediasoupWorkerBin: Type.Optional(
    Type.String({
      description: "mediasoup-worker binary (Debian experimental's package; the npm package cannot build one here). Default: Debian's path for this machine's architecture, /usr/lib/<multiarch>/mediasoup/mediasoup-worker",
    }),
  ),
  mediasoupWorkers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'mediasoup workers (default: one per usable CPU, counting a container\'s CPU quota)' })),
  rtcMinPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40000, description: 'Lowest UDP/TCP port for WebRTC' }),
  rtcMaxPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40999, description: 'Highest UDP/TCP port for WebRTC' }),
  maxTransportsPerPeer: Type.Integer({
    minimum: 1,
    default: 8,
    description: 'WebRTC transports one peer may hold in a room (all its sockets, on every gateway). A browser needs one to send and one to receive',
  }),
  maxTransportsPerRoom: Type.Integer({ minimum: 1, default: 100, description: 'WebRTC transports one room may hold (all its peers); ROOM_PORT_SHARE may lower it' }),
  roomPortShare: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    default: 0.25,
    description: 'Largest share of the RTC port range one room\'s WebRTC transports may take (each holds a port), so no room can starve the others; a room\'s cap is the lower of this and MAX_TRANSPORTS_PER_ROOM',
  }),
  maxProducersPerPeer: Type.Integer({ minimum: 1, default: 4, description: 'Producers one peer may hold in a room (a camera is one, with its microphone two)' }),
  maxProducersPerRoom: Type.Integer({ minimum: 1, default: 64, description: 'Producers one room may hold (ingests not counted)' }),
  maxConsumersPerPeer: Type.Integer({ minimum: 1, default: 64, description: 'Consumers one peer may hold in a room (one per stream watched, two with audio)' }),
  maxConsumersPerRoom: Type.Integer({ minimum: 1, default: 1000, description: 'Consumers one room may hold (each costs the worker CPU to forward)' }),
  rtcListenIp: Type.String({ default: '127.0.0.1', description: 'Address WebRTC transports listen on (0.0.0.0 in containers)' }),
  rtcAnnouncedIp: Type.Optional(Type.String({ description: 'Address announced to browsers in ICE candidates (the host/node IP in Docker/Kubernetes)' })),
  videoCodecs: Type.String({
    default: 'VP8,H264',
    pattern: '^(VP8|H264)(,(VP8|H264))*$',
    description: 'Video codecs rooms offer, preferred first (VP8, H264); Opus is always offered for audio',
  }),
  maxIncomingBitrate: Type.Integer({ minimum: 100_000, default: 1_500_000, description: 'Per send transport, bits/s' }),
  initialOutgoingBitrate: Type.Integer({ minimum: 100_000, default: 1_000_000, description: 'Starting estimate for viewers, bits/s' }),
  mediasoupLogLevel: Type.Union([Type.Literal('debug'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('none')], {
    default: 'warn',
    description: 'mediasoup worker log level',
  }),
  ffmpegPath: Type.String({ default: 'ffmpeg', description: 'ffmpeg binary for taps and ingest' }),
  sampleFps: Type.Number({ minimum: 0.1, maximum: 30, default: 5, description: 'Default frames per second sampled onto NATS (rooms may change it)' }),
  maxFrameWidth: Type.Integer({ minimum: 64, maximum: 4096, default: 640, description: 'Frames wider than this are scaled down (aspect kept)' }),
  tapPortMin: Type.Integer({ minimum: 1024, maximum: 65534, default: 20000, description: 'Lowest local UDP port for ffmpeg RTP (even; keep outside the ephemeral range)' }),
  tapPortMax: Type.Integer({ minimum: 1025, maximum: 65535, default: 29999, description: 'Highest local UDP port for ffmpeg RTP' }),
  tapBindWaitMs: Type.Integer({
    minimum: 0,
    default: 5000,
    description: "Longest wait for a tap ffmpeg's RTP socket to appear in /proc/net/udp* before its stream is resumed anyway (only saves time; never fatal)",
  }),
  tapFirstFrameTimeoutMs: Type.Integer({ minimum: 1000, default: 20_000, description: 'A tap that decodes no frame this long after starting has failed and is started again (with backoff)' }),
  tapStallTimeoutMs: Type.Integer({ minimum: 1000, default: 10_000, description: 'A tap whose frames stop this long (or three frame intervals, if longer) has stalled and is started again' }),
  tapFrozenTimeoutMs: Type.Integer({
    minimum: 0,
    default: 5000,
    description: "A tap whose frames keep coming as byte-identical JPEGs this long has a frozen picture: analysis says stalled, the copies are not published, the tap is started again (0 = not checked)",
  }),
  ingestFileRoot: Type.String({ default: '', description: 'Media files may be ingested only from under this directory (empty = file ingest off)' }),
  ingestPassthrough: Type.Boolean({
    default: true,
    description:
      "A source whose video the router routes is sent as it is instead of decoded and encoded to VP8 again (~8% of a core per stream saved): a camera's H.264 of a profile in VIDEO_CODECS (constrained baseline) with a keyframe in its first 3 s, or a file's VP8/H.264 with keyframes at most 2 s apart; the rest is encoded (the stream's ingest.why says why)",
  }),
  ffprobePath: Type.String({ default: 'ffprobe', description: 'ffprobe binary (ships with ffmpeg), used to look at an ingest source (codec, H.264 profile, keyframes) before choosing copy or encode' }),
  registryTtlMs: Type.Integer({ minimum: 3000, default: 15_000, description: 'Instance heartbeat TTL in KV; a dead instance disappears after this' }),
});
