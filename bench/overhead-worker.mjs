// The bare loop's two stages, one worker thread each, so the bare side has the same
// parallelism as the services (detector and reid on two cores), without NATS, JSON, KV or
// a WebSocket: bench/overhead.mjs starts one 'detect' and one 'embed' worker and joins
// them with a MessagePort.
//  detect: frames (stream, captureMs) → the one-waiting-frame-per-stream queue → FacePipeline
//          → faces (with their aligned crops) to the embed worker
//  embed:  faces → reid's embedding model + a gallery search (1,000 subjects) → the
//          frame's captureMs back to the main thread
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { cameraFrame, inProcessDetector, inProcessReid, ROOT } from './lib.mjs';

const { role, fixture } = workerData;
const frame = await cameraFrame(fixture);

if (role === 'detect') {
  const { LatestFrameQueue } = await import(path.join(ROOT, 'packages/service-kit/dist/index.js'));
  const { pipeline, settings, close } = await inProcessDetector();
  for (let i = 0; i < 5; i++) await pipeline.analyze(frame, settings);
  const queue = new LatestFrameQueue();
  let toEmbed;
  let busy = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    for (let f = queue.shift(); f; f = queue.shift()) {
      const { faces } = await pipeline.analyze(frame, settings, { key: f.stream, captureMs: f.captureMs });
      toEmbed.postMessage({ captureMs: f.captureMs, faces });
    }
    busy = false;
  };
  parentPort.on('message', async (m) => {
    if (m.port) toEmbed = m.port;
    else if (m.frame) {
      queue.push(m.frame.stream, m.frame);
      void pump();
    } else if (m.close) {
      await close();
      parentPort.postMessage({ closed: true });
    }
  });
  parentPort.postMessage({ ready: true });
} else {
  const { pipeline, settings, close: closeDetector } = await inProcessDetector();
  const warm = (await pipeline.analyze(frame, settings)).faces;
  await closeDetector();
  const reid = await inProcessReid();
  for (let i = 0; i < 5; i++) await reid.identify(warm);
  const waiting = [];
  let busy = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    for (let job = waiting.shift(); job; job = waiting.shift()) {
      await reid.identify(job.faces);
      parentPort.postMessage({ done: job.captureMs, at: Date.now() });
    }
    busy = false;
  };
  parentPort.on('message', async (m) => {
    if (m.port) {
      m.port.on('message', (job) => {
        waiting.push(job);
        void pump();
      });
    } else if (m.close) {
      await reid.close();
      parentPort.postMessage({ closed: true });
    }
  });
  parentPort.postMessage({ ready: true });
}
