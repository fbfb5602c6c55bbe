import { startService } from '@lookout/service-kit';
import { serveAnalyze } from './analyze/analyze-responder.js';
import { DetectorConfig } from './config.js';
import { FrameWorker } from './frames/frame-worker.js';
import { PeerCadence } from './frames/peer-cadence.js';
import { serveJobFrames } from './frames/job-frames.js';
import { defaultSettings, loadModels } from './models/models.js';
import { CadenceTracker } from './pipeline/cadence.js';
import { FacePipeline } from './pipeline/face-pipeline.js';
import { poseReuseOf } from './pipeline/pose-reuse.js';
import { RoomSettings } from './settings/room-settings.js';
import { openStores } from './stores.js';

const svc = await startService({ name: 'detector', config: DetectorConfig });
const { config } = svc;

const models = await loadModels(config, { log: svc.log.child({ module: 'models' }), metrics: svc.metrics });
svc.onShutdown('models', () => models.close());

const stores = await openStores(svc.nc, svc.storage);
const rooms = new RoomSettings(defaultSettings(config), svc.log.child({ module: 'room-settings' }), svc.badMessages);
await rooms.start(stores.roomConfig);
svc.onShutdown('room-settings', () => rooms.stop());
svc.addReadiness('room_settings', () => rooms.ready);

const cadence = new CadenceTracker();
const pipeline = new FacePipeline(models.detector, models.analyzers, cadence, config.maxAnalysisSide, poseReuseOf(config));

// Before the worker, so this replica's first frame already knows what its peers ran.
const peers = new PeerCadence({
  nc: svc.nc,
  log: svc.log.child({ module: 'peer-cadence' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
  cadence,
  workerId: svc.instance,
  maxSide: config.maxAnalysisSide,
});
peers.start();
svc.onShutdown('peer-cadence', () => peers.stop());

const worker = new FrameWorker({
  nc: svc.nc,
  log: svc.log.child({ module: 'frame-worker' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
  pipeline,
  settingsFor: (room) => rooms.for(room),
  maxFrameAgeMs: config.maxFrameAgeMs,
  maxJobFramesWaiting: config.detectorJobQueueMax,
  workerId: svc.instance,
});
worker.start();
svc.onShutdown('frame-worker', () => worker.stop());

const analyze = serveAnalyze(svc.rpc, {
  pipeline,
  settingsFor: (room) => (room ? rooms.for(room) : rooms.defaults),
  badMessages: svc.badMessages,
});
svc.onShutdown('analyze', () => analyze.stop());

// Stopped before the worker (closers run in reverse): no new job frame is taken, then the
// worker answers the ones still waiting with `unavailable`.
const jobFrames = serveJobFrames(svc.rpc, {
  worker,
  pipeline,
  settingsFor: (room) => rooms.for(room),
  log: svc.log.child({ module: 'job-frames' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
  workerId: svc.instance,
});
svc.onShutdown('job-frames', () => jobFrames.stop());

await svc.ready({ analyzers: config.analyzers });
