import { readFileSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { closeHttp, fromInstallRoot, listenHttp, localUrlHost, startService } from '@lookout/service-kit';
import { createApp } from './app.js';
import { ReidClient } from './clients/reid.js';
import { SfuClient } from './clients/sfu.js';
import { GatewayConfig } from './config.js';
import { registerGalleryRoutes } from './gallery/routes.js';
import { GalleryService } from './gallery/service.js';
import { ApiRouter } from './http/api-router.js';
import { ApiKeys, Authenticator, RoomTokens } from './http/auth.js';
import { JobMetrics } from './jobs/job-metrics.js';
import { JobStore } from './jobs/job-store.js';
import { JobService } from './jobs/service.js';
import { JobsOff, jobsDirProblem } from './jobs/jobs-off.js';
import { clientAddress } from './http/client-address.js';
import { createLimits } from './http/limits.js';
import { TurnCredentials } from './http/turn-credentials.js';
import { registerRoomRoutes } from './rooms/routes.js';
import { RoomService } from './rooms/service.js';
import { registerSessionRoutes } from './sessions/routes.js';
import { SessionService } from './sessions/service.js';
import { SessionStore } from './sessions/session-store.js';
import { openStores } from './stores.js';
import { DestinationPolicy } from './webhooks/destination.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { WebhookRegistry } from './webhooks/registry.js';
import { registerWebhookRoutes } from './webhooks/routes.js';
import { HookStore } from './webhooks/store.js';
import { WsGateway } from './ws/ws-gateway.js';

// The gateway serves health and metrics on its public port, beside the API and the app.
const svc = await startService({ name: 'gateway', config: GatewayConfig, http: 'host' });
const { config, log, nc } = svc;
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

if (!config.tokenSecret) log.warn('TOKEN_SECRET is not set: room tokens are signed with a random key and only this process accepts them');
const kv = await openStores(nc, svc.storage);
// Request and refused-credential budgets shared by every replica (NATS KV).
const { limiter, throttle } = await createLimits({ kv: kv.rateLimits, requestsPerMinute: config.rateLimitPerMinute, authFailuresPerMinute: config.authFailuresPerMinute, metrics: svc.metrics, log });
svc.onShutdown('auth-throttle', () => throttle.stop());
const auth = new Authenticator(new ApiKeys(config.apiKeys), new RoomTokens(config.tokenSecret), { throttle, clientOf: clientAddress(config.trustProxy) });
const sfu = new SfuClient(nc, kv);
const reid = new ReidClient(nc);

// Each feature's service, built once; route modules and the dispatcher only use them.
// TURN credentials (coturn REST scheme) ride with every room token and join ack; none without TURN_URLS.
const turn = TurnCredentials.fromConfig(config);
if (turn) log.info({ turnUrls: config.turnUrls, turnTtlS: config.turnTtlS }, 'TURN credentials issued with room tokens');
const rooms = new RoomService({ sfu, roomConfig: kv.roomConfig, sfuRooms: kv.sfuRooms, tokens: auth.tokens, tokenTtlS: config.tokenTtlS, turn });
const zip = { maxEntries: config.zipMaxEntries, maxEntryBytes: config.zipMaxEntryBytes, maxTotalBytes: config.zipMaxTotalBytes, maxRatio: config.zipMaxRatio };
const jsm = await jetstreamManager(nc);
const sessionStore = new SessionStore(kv.sessions, kv.streamSessions, jsm);
const gallery = new GalleryService({ reid, enrollJobs: kv.enrollJobs, jsm, sessions: sessionStore, uploadLimitBytes: config.uploadLimitBytes, zip, log });
const sessions = new SessionService({ store: sessionStore, reid, js: jetstream(nc), badMessages: svc.badMessages, log });
// Recording jobs (docs/jobs.md): the engine runs this gateway's share of them; the routes take videos in.
const jobsDir = fromInstallRoot(config.jobsDir);
const jobsOff = jobsDirProblem(jobsDir);
if (jobsOff) log.error({ jobsDir }, `recording jobs are off: ${jobsOff}`);
const jobs = jobsOff !== undefined ? undefined : new JobService({
  nc,
  store: new JobStore(kv.jobs, jsm),
  sessions,
  instance: svc.instance,
  settings: {
    jobsDir,
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    maxRunning: config.jobMaxRunning,
    window: config.jobWindow,
    frameTimeoutMs: config.jobFrameTimeoutMs,
    maxWidth: config.jobFrameWidth,
    maxDurationS: config.jobMaxDurationS,
  },
  metrics: new JobMetrics(svc.metrics),
  log: log.child({ module: 'jobs' }),
});
const hooks = new HookStore(kv.webhooks);
const policy = new DestinationPolicy(config.webhookAllowHosts);
const webhooks = new WebhookRegistry({ nc, store: hooks, policy, deliveryLog: kv.webhookLog, timeoutMs: config.webhookTimeoutMs, log: log.child({ module: 'webhooks' }) });

const api = new ApiRouter();
registerRoomRoutes(api, rooms);
registerGalleryRoutes(api, gallery);
registerWebhookRoutes(api, webhooks);
registerSessionRoutes(api, sessions);
// Closers run in reverse: this one after HTTP stops taking uploads, before NATS drains, so a running job records its final state.
svc.onShutdown('enroll-jobs', () => gallery.close());

const app = createApp({
  healthHandler: svc.healthHandler,
  webRoot: fromInstallRoot(config.webRoot),
  log: log.child({ module: 'http' }),
  api,
  auth,
  corsOrigins: config.corsOrigins,
  limiter,
  rateLimitPerMinute: config.rateLimitPerMinute,
  bodyLimitBytes: config.bodyLimitBytes,
  version,
  jobs: { service: jobs ?? new JobsOff(jobsOff!), config },
});
const { server, port } = await listenHttp(app, config.httpPort, config.httpHost);
svc.onShutdown('http', () => closeHttp(server));

// Closers run in reverse: jobs stop (checkpoints written, leases released) before HTTP closes and NATS drains.
if (jobs) {
  await jobs.start();
  svc.onShutdown('jobs', () => jobs.stop());
}

const ws = new WsGateway({ server, nc, config, auth, turn, sfu, metrics: svc.metrics, badMessages: svc.badMessages, log: log.child({ module: 'ws' }) });
svc.onShutdown('ws', () => ws.close());

const dispatcher = new WebhookDispatcher({ nc, store: hooks, policy, deliveryLog: kv.webhookLog, config, metrics: svc.metrics, badMessages: svc.badMessages, log });
await dispatcher.start();
svc.onShutdown('webhooks', () => dispatcher.stop());

await svc.ready({ port, url: `http://${localUrlHost(config.httpHost)}:${port}/` });
