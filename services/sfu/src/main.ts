import os from 'node:os';
import { ConfigError, startService } from '@lookout/service-kit';
import { SfuConfig } from './config.js';
import { WorkerPool } from './worker-pool.js';

const svc = await startService({ name: 'sfu', config: SfuConfig });
const { config } = svc;
if (config.rtcMinPort > config.rtcMaxPort) throw new ConfigError('RTC_MIN_PORT', `must not exceed RTC_MAX_PORT (${config.rtcMinPort} > ${config.rtcMaxPort})`);

const pool = await WorkerPool.start({
  workerBin: config.mediasoupWorkerBin,
  size: config.mediasoupWorkers ?? os.availableParallelism(),
  rtcMinPort: config.rtcMinPort,
  rtcMaxPort: config.rtcMaxPort,
  logLevel: config.mediasoupLogLevel,
  log: svc.log.child({ module: 'worker-pool' }),
  metrics: svc.metrics,
});
svc.addReadiness('mediasoup', () => pool.healthy());
svc.onShutdown('worker-pool', () => pool.close());
await svc.ready({ mediasoupWorkers: pool.pids });
