import { closeHttp, listenHttp, startService } from '@lookout/service-kit';
import { GatewayConfig } from './config.js';
import { createApp } from './app.js';
import { RoomFeed } from './room-feed.js';
import { WsServer } from './ws-server.js';

// The gateway serves health and metrics on its public port, beside the API and the app.
const svc = await startService({ name: 'gateway', config: GatewayConfig, http: 'host' });
const { config } = svc;

const app = createApp({ healthHandler: svc.healthHandler, webRoot: config.webRoot });
const { server, port } = await listenHttp(app, config.httpPort, config.httpHost);
svc.onShutdown('http', () => closeHttp(server));

const feed = new RoomFeed(svc.nc, svc.log.child({ module: 'room-feed' }), svc.badMessages);
svc.onShutdown('room-feed', () => feed.close());

const ws = new WsServer({
  server,
  feed,
  log: svc.log.child({ module: 'ws' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
  maxBufferedBytes: config.wsMaxBufferedBytes,
  maxMessageBytes: config.wsMaxMessageBytes,
});
svc.onShutdown('ws', () => ws.close());

await svc.ready({ port, url: `http://${config.httpHost}:${port}/` });
