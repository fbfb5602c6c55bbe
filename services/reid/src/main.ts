import { startService } from '@lookout/service-kit';
import { ReidConfig } from './config.js';
import { FacesRelay } from './faces-relay.js';

const svc = await startService({ name: 'reid', config: ReidConfig });

const relay = new FacesRelay({
  nc: svc.nc,
  log: svc.log.child({ module: 'faces-relay' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
});
relay.start();
svc.onShutdown('faces-relay', () => relay.stop());
await svc.ready();
