// The public surface of @lookout/testkit: every helper the tests and benchmarks share.
// Named, not `export *`: each module's internals (log parsing, the ZIP checksum) stay here.

// Processes and ports (processes.ts, sfu-client.ts, ports.ts)
export { spawnProcess, stopAllProcesses, isAlive } from './processes.js';
export type { Spawned } from './processes.js';
export { childProcesses } from './sfu-client.js';
export { freePorts, holdUdpPorts } from './ports.js';

// A real nats-server and the services, built, as real processes (nats-server.ts, services.ts)
export { startNatsServer } from './nats-server.js';
export type { NatsServer } from './nats-server.js';
export { startNatsCluster, startNatsNode } from './nats-cluster.js';
export type { NatsCluster, NatsClusterNode } from './nats-cluster.js';
export { ROOT, FIXTURES, startService, metricValue } from './services.js';
export type { RunningService, StartOptions } from './services.js';

// Talking to them: REST, WebSocket, NATS request/reply, frames (api-client.ts, ws-client.ts, rpc-client.ts, frames.ts)
export { TEST_ADMIN_KEY, TEST_TOKEN_SECRET, TEST_GATEWAY_ENV, apiCall, roomToken } from './api-client.js';
export type { ApiResponse } from './api-client.js';
export { rawPost } from './raw-post.js';
export { TestWsClient, isAnalysis, isAck, isError, isAlert, isMetrics, isSignal, isSfuEvent, isClosing } from './ws-client.js';
export type { TestWsOptions } from './ws-client.js';
export { rawRpc, sfuCall, sfuOk, galleryCall } from './rpc-client.js';
export type { GalleryOutcome } from './rpc-client.js';
export { FramePublisher } from './frames.js';

// Faults: an ffmpeg that fails on cue (faulty-ffmpeg.ts)
export { FaultyFfmpeg } from './faulty-ffmpeg.js';

// Test data: the two-person video, wide small-face scenes, ZIP archives (media/two-people-video.ts, media/wide-scenes.ts, zip.ts)
export { TWO_PEOPLE_VIDEO, VIDEO_FPS, SWITCH_FRAME, extractVideoFrames, enrollVideoPeople } from './media/two-people-video.js';
export { RtspCamera, RTSP_CAMERA_VIDEO } from './media/rtsp-camera.js';
export type { RtspCameraOptions } from './media/rtsp-camera.js';
export { buildWideScene, buildWideScenes, WIDE_SCENE_SIZE } from './media/wide-scenes.js';
export type { WideScene } from './media/wide-scenes.js';
export { buildZip } from './zip.js';
export type { ZipEntry } from './zip.js';

// Chromium: fake camera, the publisher page, the web app (browser/chromium.ts, browser/web-harness.ts)
export { fakeCameraFile, launchChromium, servePublisherPage } from './browser/chromium.js';
export type { PublisherPageApi } from './browser/chromium.js';
export { ensureWebBuilt, newContext, watchErrors, enroll, timeUntil, artifact } from './browser/web-harness.js';
// A real coturn for the TURN relay test, and the ICE path a page's peer connections took (browser/coturn.ts)
export { startCoturn, trackPeerConnections, selectedPaths, gatherRelayCandidates } from './browser/coturn.js';
export type { Coturn, SelectedPath } from './browser/coturn.js';

// Seeded randomness for synthetic test data (random.ts)
export { seededRandom } from './random.js';

// Resilience: watching readiness and analysis through faults, the whole system under npm start (resilience/*.ts)
export { patientConnect, isReady, until, sleep, watchReadiness, recordAnalysis, longestGap } from './resilience/watch.js';
export { startStack, findPids, RoomViewer, webhookSink, firstWithin } from './resilience/fault-stack.js';
export type { Stack, FaultTarget, Seen } from './resilience/fault-stack.js';

// Fuzzing: hostile inputs for every consumer and the WebSocket, and what each should answer (fuzz/*.ts)
export { validExample } from './fuzz/hostile.js';
export {
  allowedCodes,
  feedReceives,
  frameAccepted,
  frameCases,
  jsonAccepted,
  jsonCases,
  pool as fuzzPool,
  previewAccepted,
  ROOM as FUZZ_ROOM,
  rpcCases,
  rpcVerdict,
  sendRpc,
  toNatsHeaders,
} from './fuzz/consumers.js';
export type { FrameCase, JsonCase } from './fuzz/consumers.js';
export { fuzzWebSocket, WS_MAX_MESSAGE_BYTES } from './fuzz/ws-fuzz.js';
export type { WsSummary } from './fuzz/ws-fuzz.js';

// The tuning / test split of the face fixtures (face-split.ts; docs/accuracy.md)
export { FACE_FIXTURES, FACE_SPLIT_SEED, FACE_SPLIT_RULE, makeFaceSplit, readFaceManifest, readFaceSplit } from './face-split.js';
export type { FaceHalf, FaceManifest, FaceSplit } from './face-split.js';

// compose.yaml for real: docker-compose against a root podman, images from the Dockerfile (deploy/compose-stack.ts; issue 19)
export { ComposeProject, COMPOSE_TEST_OVERRIDE, buildServiceImages, counterSum, natsComposeConfFor29, podmanDown, podmanUp } from './deploy/compose-stack.js';
export type { BuiltImage } from './deploy/compose-stack.js';
