import { readFileSync } from 'node:fs';
import { closeHttp, fromInstallRoot, listenHttp, localUrlHost, startService } from '@lookout/service-kit';
import { createApp } from './app.js';
import { openBuckets } from './buckets.js';
import { GatewayConfig } from './config.js';
import type { GatewayDeps } from './deps.js';
import { ApiRouter } from './http/api-router.js';
import { ApiKeys, Authenticator, RoomTokens } from './http/auth.js';
import { registerAnalyzeRoutes } from './routes/analyze.js';
import { registerGalleryRoutes } from './routes/gallery.js';
import { registerRoomRoutes } from './routes/rooms.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { SfuClient } from './sfu-client.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { WsGateway } from './ws/ws-gateway.js';

// The gateway serves health and metrics on its public port, beside the API and the app.
const svc = await startService({ name: 'gateway', config: GatewayConfig, http: 'host' });
const { config, log } = svc;
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

if (!config.tokenSecret) log.warn('TOKEN_SECRET is not set: room tokens are signed with a random key and only this process accepts them');
const kv = await openBuckets(svc.nc);
const auth = new Authenticator(new ApiKeys(config.apiKeys), new RoomTokens(config.tokenSecret));
const deps: GatewayDeps = { nc: svc.nc, log, config, metrics: svc.metrics, badMessages: svc.badMessages, kv, auth, sfu: new SfuClient(svc.nc, kv.placement, kv.sfuInstances) };

const api = new ApiRouter();
registerRoomRoutes(api, deps);
registerAnalyzeRoutes(api, deps);
const gallery = registerGalleryRoutes(api, deps);
// Closers run in reverse: this one after HTTP stops taking uploads, before NATS drains, so a running job records its final state.
svc.onShutdown('enroll-jobs', () => gallery.close());
registerWebhookRoutes(api, deps);
registerSessionRoutes(api, deps);

const app = createApp({
  healthHandler: svc.healthHandler,
  webRoot: fromInstallRoot(config.webRoot),
  log: log.child({ module: 'http' }),
  api,
  auth,
  corsOrigins: config.corsOrigins,
  rateLimitPerMinute: config.rateLimitPerMinute,
  bodyLimitBytes: config.bodyLimitBytes,
  version,
});
const { server, port } = await listenHttp(app, config.httpPort, config.httpHost);
svc.onShutdown('http', () => closeHttp(server));

const ws = new WsGateway({ server, deps, log: log.child({ module: 'ws' }) });
svc.onShutdown('ws', () => ws.close());

const webhooks = new WebhookDispatcher(deps);
await webhooks.start();
svc.onShutdown('webhooks', () => webhooks.stop());

await svc.ready({ port, url: `http://${localUrlHost(config.httpHost)}:${port}/` });
