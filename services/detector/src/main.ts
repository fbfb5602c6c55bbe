import { startService } from '@lookout/service-kit';
import { AnalyzeResponder } from './analyze-responder.js';
import { CadenceTracker } from './cadence.js';
import { DetectorConfig } from './config.js';
import { FacePipeline } from './face-pipeline.js';
import { FrameWorker } from './frame-worker.js';
import { defaultSettings, loadModels } from './models.js';
import { RoomSettings } from './room-settings.js';

const svc = await startService({ name: 'detector', config: DetectorConfig });
const { config } = svc;

const models = await loadModels(config);
svc.onShutdown('models', () => models.close());

const rooms = new RoomSettings(defaultSettings(config), svc.log.child({ module: 'room-settings' }), svc.badMessages);
await rooms.start(svc.nc);
svc.onShutdown('room-settings', () => rooms.stop());
svc.addReadiness('room_settings', () => rooms.ready);

const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide);

const worker = new FrameWorker({
  nc: svc.nc,
  log: svc.log.child({ module: 'frame-worker' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
  pipeline,
  settingsFor: (room) => rooms.for(room),
  maxFrameAgeMs: config.maxFrameAgeMs,
  workerId: svc.instance,
});
worker.start();
svc.onShutdown('frame-worker', () => worker.stop());

const responder = new AnalyzeResponder({
  nc: svc.nc,
  log: svc.log.child({ module: 'analyze' }),
  pipeline,
  settingsFor: (room) => (room ? rooms.for(room) : rooms.defaults),
  badMessages: svc.badMessages,
});
responder.start();
svc.onShutdown('analyze', () => responder.stop());

await svc.ready({ analyzers: config.analyzers });
