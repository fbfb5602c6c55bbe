import { startService } from '@lookout/service-kit';
import { SfuConfig } from './config.js';
import { WorkerPool } from './worker-pool.js';

const svc = await startService({ name: 'sfu', config: SfuConfig });
const { config } = svc;

const pool = await WorkerPool.start({
  workerBin: config.mediasoupWorkerBin,
  size: config.mediasoupWorkers,
  rtcMinPort: config.rtcMinPort,
  rtcMaxPort: config.rtcMaxPort,
  logLevel: config.mediasoupLogLevel,
  log: svc.log.child({ module: 'worker-pool' }),
  metrics: svc.metrics,
});
svc.addReadiness('mediasoup', () => pool.healthy());
svc.onShutdown('worker-pool', () => pool.close());
await svc.ready({ mediasoupWorkers: pool.pids });
