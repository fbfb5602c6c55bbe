import path from 'node:path';
import { startService } from '@lookout/service-kit';
import { DetectorConfig } from './config.js';
import { FaceDetector } from './face-detector.js';
import { FrameAnalyzer } from './frame-analyzer.js';
import { FrameWorker } from './frame-worker.js';

const svc = await startService({ name: 'detector', config: DetectorConfig, http: 'own' });
const { config } = svc;

const detector = await FaceDetector.load({
  modelPath: path.resolve(config.modelsDir, config.detectorModel),
  confidence: config.detectConfidence,
  nmsIou: config.nmsIou,
  minFaceSize: config.minFaceSize,
  threads: config.inferenceThreads,
});
svc.onShutdown('detector-model', () => detector.close());

const worker = new FrameWorker({
  nc: svc.nc,
  log: svc.log.child({ module: 'frame-worker' }),
  metrics: svc.metrics,
  badMessages: svc.badMessages,
  analyzer: new FrameAnalyzer(detector),
  maxFrameAgeMs: config.maxFrameAgeMs,
  workerId: svc.instance,
});
worker.start();
svc.onShutdown('frame-worker', () => worker.stop());
await svc.ready();
