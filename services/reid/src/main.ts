import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { roomAnalysisConfig, storage, streamSession } from '@lookout/contracts';
import { fromInstallRoot, Gauge, KvMirror, kvStreamOf, startService } from '@lookout/service-kit';
import { SESSION_INFO_METRIC } from '@lookout/onnx-kit';
import { DetectorClient } from './clients/detector.js';
import { ReidConfig } from './config.js';
import { EMBEDDING_DIM, FaceEmbedder } from './embedding/embedder.js';
import { Enrollment } from './gallery/enrollment.js';
import { GalleryIndex } from './gallery/gallery-index.js';
import { GalleryService } from './gallery/gallery-service.js';
import { GalleryStore } from './gallery/gallery-store.js';
import { EventEraser } from './gallery/erasure.js';
import { ImageIdentifier } from './gallery/identify.js';
import { openStores, tunedStores } from './stores.js';
import { DEFAULT_TRACKER_CONFIG } from './stream/core/tracker.js';
import { EventPublisher } from './stream/event-publisher.js';
import { FaceObserver } from './stream/face-observer.js';
import { FrameAnalyzer } from './stream/frame-analyzer.js';
import { JobFrames } from './jobs/job-frames.js';
import { RecognitionGate } from './stream/recognition-gate.js';
import { StreamEnder } from './stream/stream-ender.js';
import { StreamEvents } from './stream/stream-events.js';
import { StreamStateStore } from './stream/stream-state-store.js';

const svc = await startService({ name: 'reid', config: ReidConfig });
const { config, log, badMessages } = svc;

const embedder = await FaceEmbedder.load(path.resolve(fromInstallRoot(config.modelsDir), config.featureModel), config.inferenceThreads, config.batchFaceModels, {
  mode: config.modelCalibration,
  log: log.child({ module: 'models' }),
  info: new Gauge({ ...SESSION_INFO_METRIC, labelNames: [...SESSION_INFO_METRIC.labelNames], registers: [svc.metrics] }),
});
svc.onShutdown('embedder', () => embedder.close());

const buckets = await openStores(svc.nc, { ...svc.storage, tuned: tunedStores(config) });
const detector = new DetectorClient(svc.nc, config.detectorTimeoutMs);

// ---- gallery: every replica's in-memory index follows the bucket; any replica answers the operations
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

const enrollment = new Enrollment(detector, embedder, {
  minFaceSize: config.enrollMinFaceSize,
  minSharpness: config.enrollMinSharpness,
  minScore: config.enrollMinScore,
  competingArea: config.enrollCompetingArea,
});
const jsm = await jetstreamManager(svc.nc);
const galleryService = new GalleryService({
  store: new GalleryStore(buckets.gallery, jsm, kvStreamOf(storage.gallery)),
  index: gallery,
  enrollment,
  identifier: new ImageIdentifier(detector, embedder, gallery),
  faceRefs: buckets.faceRefs,
  cooldowns: { kv: buckets.recognitionCooldown, stored: kvStreamOf(storage.recognitionCooldown) },
  jsm,
  events: new EventEraser(jetstream(svc.nc), jsm, kvStreamOf(storage.faceRefs)),
  eraseGraceMs: config.eraseGraceMs,
  keepImages: config.keepImages,
  maxEmbeddings: config.maxEmbeddingsPerSubject,
  log: log.child({ module: 'gallery' }),
});
const galleryResponder = galleryService.serve(svc.rpc);
svc.onShutdown('gallery-service', () => galleryResponder.stop());

// ---- stream: frames → state (CAS) → analysis and events; ended streams close their episodes
const sessions = new KvMirror('stream_session', streamSession, log.child({ module: 'sessions' }), badMessages);
const rooms = new KvMirror('room_config', roomAnalysisConfig, log.child({ module: 'room-config' }), badMessages);
await Promise.all([sessions.start(buckets.streamSessions), rooms.start(buckets.roomConfig)]);
svc.onShutdown('mirrors', () => (sessions.stop(), rooms.stop()));
svc.addReadiness('sessions', () => sessions.ready && rooms.ready);

const stateStore = new StreamStateStore(buckets.streamState, gallery);
const events = new StreamEvents({
  publisher: new EventPublisher(svc.nc),
  gate: new RecognitionGate(buckets.recognitionCooldown),
  faceRefs: buckets.faceRefs,
  log: log.child({ module: 'events' }),
  recognition: { cooldownMs: config.recognitionCooldownMs, rejectUnknown: config.rejectUnknown },
  rooms,
  refs: gallery,
});

const tracker = { ...DEFAULT_TRACKER_CONFIG, principalStableMs: config.principalStableMs };
const observer = new FaceObserver({
  embedder,
  gallery,
  badMessages,
  metrics: svc.metrics,
  tracker,
  policy: { refreshMs: config.embedRefreshMs, changeIou: config.embedChangeIou, changeJump: config.embedChangeJump, changeThumb: config.embedChangeThumb },
});
const analyzer = new FrameAnalyzer({
  nc: svc.nc,
  log: log.child({ module: 'frames' }),
  metrics: svc.metrics,
  badMessages,
  observer,
  gallery,
  sessions,
  rooms,
  state: stateStore,
  events,
  tracker,
  casRetries: config.casRetries,
  maxFrameAgeMs: config.maxFrameAgeMs,
  concurrency: config.frameConcurrency,
});
svc.onShutdown('frames', () => analyzer.stop());
// Recording jobs' frames: the same analysis, never shed, live frames first (docs/reid.md).
const jobFrames = new JobFrames({
  analyse: (faces, opts) => analyzer.analyse(faces, opts),
  whenLiveIdle: (maxMs) => analyzer.whenLiveIdle(maxMs),
  metrics: svc.metrics,
  concurrency: config.reidJobConcurrency,
  queueMax: config.reidJobQueueMax,
  liveWaitMs: config.reidJobLiveWaitMs,
});
svc.onShutdown('job-frames', () => jobFrames.stop());
// Frames wait for the whole gallery: matched against part of it, a known person would come
// out unknown and raise identity alerts (100K subjects load in ~11 s). Until then another
// replica takes the frames, or with none the detector's frames are shed as stale.
if (!gallery.ready) log.info({ subjects: gallery.subjectCount }, 'loading the gallery before taking frames');
void gallery.whenReady().then(() => {
  analyzer.start();
  jobFrames.start(svc.rpc);
  log.info({ subjects: gallery.subjectCount }, 'gallery loaded: taking frames');
});

const ender = new StreamEnder({ nc: svc.nc, log: log.child({ module: 'stream-ender' }), state: stateStore, stateKv: buckets.streamState, events, casRetries: config.casRetries, badMessages });
ender.start(svc.rpc);
svc.onShutdown('stream-ender', () => ender.stop());

await svc.ready({ subjects: gallery.subjectCount, embeddings: gallery.embeddingCount });
