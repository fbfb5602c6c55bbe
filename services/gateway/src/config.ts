import { Type, type Static } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';

export const GatewayConfig = configSchema(8080, {
  webRoot: Type.String({ default: 'web/dist', description: 'Directory of the built web app served at /; a relative path is taken from the Lookout directory (the one holding services/), not the working directory' }),
  apiKeys: Type.String({
    default: '',
    description: 'Admin API keys, comma-separated `name:key` pairs (key ≥ 16 characters). Empty: only room tokens work, and nobody can issue them',
  }),
  tokenSecret: Type.String({
    default: '',
    description: 'HMAC key that signs room tokens; every gateway behind one load balancer needs the same. Empty: a random key per process (tokens die with it)',
  }),
  tokenTtlS: Type.Integer({ minimum: 10, maximum: 86_400, default: 3600, description: 'Default lifetime of a room token (seconds)' }),
  turnUrls: Type.String({
    default: '',
    description:
      'TURN servers handed to browsers with each room token and WebSocket join, comma-separated (e.g. `turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp`). Empty: no iceServers (clients reach the SFU directly or not at all)',
  }),
  turnSecret: Type.String({
    default: '',
    description: 'The TURN server\'s static-auth-secret (coturn `use-auth-secret`): TURN credentials are HMAC-SHA1 of it. Needed when TURN_URLS is set, unless TURN_SECRET_FILE',
  }),
  turnSecretFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the TURN secret, instead of TURN_SECRET (a mounted secret); read once at start' })),
  turnTtlS: Type.Integer({
    minimum: 60,
    maximum: 86_400,
    default: 3600,
    description: 'Longest lifetime of a TURN credential (seconds); it never outlives the room token it came with. A relayed connection ends a few minutes after it expires (the TURN server refuses to refresh the allocation) unless the client joined again',
  }),
  corsOrigins: Type.String({ default: '', description: 'Origins allowed to call the API from a browser, comma-separated (`*` = any). Empty: same origin only' }),
  rateLimitPerMinute: Type.Integer({
    minimum: 1,
    default: 600,
    description: 'Requests per minute per API key or room token, shared by every gateway replica (counted in NATS KV; per replica only while NATS does not answer)',
  }),
  authFailuresPerMinute: Type.Integer({
    minimum: 1,
    default: 30,
    description:
      'Refused credentials (unknown API key, forged or malformed token; not expired ones) per client address per minute, shared by every replica; past them every credential from that address gets 429 until the budget refills',
  }),
  trustProxy: Type.String({
    default: '',
    description:
      'Proxies whose X-Forwarded-For names the client (Express "trust proxy": comma-separated addresses/CIDRs, or a hop count). Empty: the TCP peer is the client. Behind a load balancer set it, or every client shares the balancer\'s failed-credential budget',
  }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Largest JSON request body' }),
  uploadLimitBytes: Type.Integer({ minimum: 1024, default: 209_715_200, description: 'Largest multipart upload (images, ZIP)' }),
  zipMaxEntries: Type.Integer({ minimum: 1, default: 2000, description: 'Batch enrollment: most files in one ZIP' }),
  zipMaxEntryBytes: Type.Integer({ minimum: 1024, default: 10_485_760, description: 'Batch enrollment: largest uncompressed file' }),
  zipMaxTotalBytes: Type.Integer({ minimum: 1024, default: 524_288_000, description: 'Batch enrollment: largest total uncompressed size' }),
  zipMaxRatio: Type.Integer({ minimum: 1, default: 100, description: 'Batch enrollment: largest uncompressed/compressed ratio of a file (zip bombs)' }),
  webhookAllowHosts: Type.String({
    default: '',
    description: 'Webhook destinations allowed even in private/loopback ranges: comma-separated host names, IPs or CIDRs. Public addresses are always allowed',
  }),
  webhookMaxAttempts: Type.Integer({ minimum: 1, default: 8, description: 'Delivery attempts of one event before it is given up (backoff doubles from WEBHOOK_BACKOFF_MS)' }),
  webhookDisableAfter: Type.Integer({ minimum: 1, default: 20, description: 'Consecutive failed deliveries after which a webhook is disabled' }),
  webhookBackoffMs: Type.Integer({ minimum: 10, default: 1000, description: 'Delay before the first retry of a failed delivery; doubles per attempt' }),
  webhookBackoffMaxMs: Type.Integer({ minimum: 10, default: 300_000, description: 'Longest delay between two attempts of one delivery' }),
  webhookTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000, description: 'A delivery without a response within this time fails (connect included)' }),
  webhookConcurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Deliveries in flight per webhook per gateway instance' }),
  wsMaxBufferedBytes: Type.Integer({
    minimum: 1024,
    default: 1_048_576,
    description: 'Unsent bytes a WebSocket may hold before further messages wait in its queue (and, after WS_STUCK_MS above it, the socket is closed)',
  }),
  wsMaxMessageBytes: Type.Integer({ minimum: 1024, default: 4_194_304, description: 'Largest message a client may send (fallback JPEG frames included)' }),
  wsQueueLength: Type.Integer({
    minimum: 1,
    default: 64,
    description: 'Messages queued per socket; a newer analysis, metrics sample or preview of a stream replaces its queued one, then when full the oldest preview, analysis, metrics go first, alerts never',
  }),
  wsMaxMessageAgeMs: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 2000,
    description: 'An analysis, metrics sample or preview that waited in a socket\'s queue longer than this is dropped (stale) when its turn comes; alerts, acks and errors are always sent',
  }),
  wsStuckMs: Type.Integer({ minimum: 100, default: 10_000, description: 'A WebSocket that keeps more than WS_MAX_BUFFERED_BYTES unsent this long is closed with 4008 (and cut off as long again later if it does not complete the close)' }),
  wsHeartbeatMs: Type.Integer({ minimum: 100, default: 15_000, description: 'Ping interval; a peer that misses a pong is dropped' }),
  wsMaxTransports: Type.Integer({
    minimum: 1,
    default: 4,
    description: 'WebRTC transports one WebSocket may hold, creations in flight included (a browser needs one to send, one to receive). The SFU also caps them per peer and per room',
  }),
  wsMaxProducers: Type.Integer({ minimum: 1, default: 4, description: 'Producers one WebSocket may hold, creations in flight included. The SFU also caps producers and consumers per peer and per room' }),
  wsJoinTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'A WebSocket that has not joined a room (or authenticated with ?token=) within this is closed with 4401' }),
  // Recording jobs (docs/jobs.md)
  jobsDir: Type.String({
    default: 'data/jobs',
    description: 'Where recording jobs\' videos are held while they are analysed (one file per job, erased with it); a relative path is taken from the Lookout directory, not the working directory',
  }),
  jobMaxBytes: Type.Integer({ minimum: 1024, default: 2_147_483_648, description: 'Largest video a recording job may upload or download (refused while reading, 413)' }),
  jobMaxDurationS: Type.Integer({ minimum: 1, maximum: 86_400, default: 14_400, description: 'Longest video a recording job analyses; a longer one is refused (too_long) when it is probed' }),
  jobWindow: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'Frames of one job at the detectors at once (and decoded frames held in memory); more replicas need a wider window to be kept busy' }),
  jobMaxRunning: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Recording jobs this gateway runs at once; the others wait, queued, in the order they were created' }),
  jobFrameTimeoutMs: Type.Integer({ minimum: 1000, maximum: 300_000, default: 20_000, description: 'A detector or reid call of a job\'s frame without an answer within this is asked again (with backoff, never given up while the job runs)' }),
  jobFrameWidth: Type.Integer({ minimum: 64, maximum: 4096, default: 640, description: 'Recording frames wider than this are scaled down before analysis (as the SFU\'s MAX_FRAME_WIDTH does for live streams)' }),
  jobUrlAllowHosts: Type.String({
    default: '',
    description: 'Hosts a URL job may download from although they are private or loopback: comma-separated host names, IPs or CIDRs (as WEBHOOK_ALLOW_HOSTS). Public addresses are always allowed',
  }),
  jobFetchTimeoutMs: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 600_000, description: 'A URL job\'s download that has not finished within this fails (fetch_failed)' }),
  ffmpegPath: Type.String({ default: 'ffmpeg', description: 'ffmpeg binary that decodes recording jobs\' videos' }),
  ffprobePath: Type.String({ default: 'ffprobe', description: 'ffprobe binary (ships with ffmpeg) that checks a recording job\'s video and reads its duration' }),
});
export type GatewayConfig = Static<typeof GatewayConfig>;
