import path from 'node:path';
import { roomAnalysisConfig, streamSession } from '@lookout/contracts';
import { fromInstallRoot, KvMirror, startService } from '@lookout/service-kit';
import { openBuckets } from './buckets.js';
import { ReidConfig } from './config.js';
import { EMBEDDING_DIM, FaceEmbedder } from './embedder.js';
import { Enrollment } from './enrollment.js';
import { EventPublisher } from './event-publisher.js';
import { FrameAnalyzer } from './frame-analyzer.js';
import { GalleryIndex } from './gallery-index.js';
import { GalleryService } from './gallery-service.js';
import { GalleryStore } from './gallery-store.js';
import { ImageIdentifier } from './identify.js';
import { RecognitionGate } from './recognition-gate.js';
import { StreamEnder } from './stream-ender.js';
import { StreamEvents } from './stream-events.js';
import { StreamStateStore } from './stream-state-store.js';
import { DEFAULT_TRACKER_CONFIG } from './stream/tracker.js';

const svc = await startService({ name: 'reid', config: ReidConfig });
const { config, log, badMessages } = svc;

const embedder = await FaceEmbedder.load(path.resolve(fromInstallRoot(config.modelsDir), config.featureModel), config.inferenceThreads, config.batchFaceModels);
svc.onShutdown('embedder', () => embedder.close());

const buckets = await openBuckets(svc.nc, config);
const publisher = await EventPublisher.start(svc.nc, config.eventsMaxAgeMs, config.jetstreamReplicas);

const gallery = new GalleryIndex(
  EMBEDDING_DIM,
  { acceptSimilarity: config.acceptSimilarity, acceptMargin: config.acceptMargin, negativeMargin: config.negativeMargin, topK: config.searchTopK },
  log.child({ module: 'gallery-index' }),
  badMessages,
  svc.metrics,
);
await gallery.start(buckets.gallery);
svc.onShutdown('gallery-index', () => gallery.stop());
svc.addReadiness('gallery', () => gallery.ready);

const sessions = new KvMirror('stream_session', streamSession, log.child({ module: 'sessions' }), badMessages);
const rooms = new KvMirror('room_config', roomAnalysisConfig, log.child({ module: 'room-config' }), badMessages);
await Promise.all([sessions.start(buckets.streamSessions), rooms.start(buckets.roomConfig)]);
svc.onShutdown('mirrors', () => (sessions.stop(), rooms.stop()));
svc.addReadiness('sessions', () => sessions.ready && rooms.ready);

const galleryService = new GalleryService({
  nc: svc.nc,
  log: log.child({ module: 'gallery' }),
  store: new GalleryStore(buckets.gallery),
  index: gallery,
  enrollment: new Enrollment(svc.nc, embedder, {
    minFaceSize: config.enrollMinFaceSize,
    minSharpness: config.enrollMinSharpness,
    minScore: config.enrollMinScore,
    competingArea: config.enrollCompetingArea,
    detectorTimeoutMs: config.detectorTimeoutMs,
  }),
  identifier: new ImageIdentifier(svc.nc, embedder, gallery, config.detectorTimeoutMs),
  faceRefs: buckets.faceRefs,
  cooldowns: buckets.cooldowns,
  keepImages: config.keepImages,
  maxEmbeddings: config.maxEmbeddingsPerSubject,
  badMessages,
});
galleryService.start();
svc.onShutdown('gallery-service', () => galleryService.stop());

const stateStore = new StreamStateStore(buckets.streamState);
const events = new StreamEvents({
  publisher,
  gate: new RecognitionGate(buckets.cooldowns),
  faceRefs: buckets.faceRefs,
  log: log.child({ module: 'events' }),
  recognition: { cooldownMs: config.recognitionCooldownMs, rejectUnknown: config.rejectUnknown },
  rooms,
});

const analyzer = new FrameAnalyzer({
  nc: svc.nc,
  log: log.child({ module: 'frames' }),
  metrics: svc.metrics,
  badMessages,
  embedder,
  gallery,
  sessions,
  rooms,
  state: stateStore,
  events,
  tracker: { ...DEFAULT_TRACKER_CONFIG, principalStableMs: config.principalStableMs },
  casRetries: config.casRetries,
});
analyzer.start();
svc.onShutdown('frames', () => analyzer.stop());

const ender = new StreamEnder({ nc: svc.nc, log: log.child({ module: 'stream-ender' }), state: stateStore, stateKv: buckets.streamState, events, casRetries: config.casRetries, badMessages });
ender.start();
svc.onShutdown('stream-ender', () => ender.stop());

await svc.ready({ subjects: gallery.subjectCount, embeddings: gallery.embeddingCount });
