// What the distributed pipeline costs over a bare in-process loop, on the same frames:
//  bare:     frames → FacePipeline (decode + the same models and cadences) → embedding +
//            gallery search (reid's model and index), in one process
//  services: frames → NATS → detector → reid → gateway → WebSocket client
// Latency: N one-face streams × 5 fps, capture time → result (p50/p95).
// Throughput: the same N streams offered faster than either can take (20 fps each), frames
// completed per second.
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { cameraFrame, gatewayClient, inProcessDetector, inProcessReid, ROOT, summarize, writeResult } from './lib.mjs';

const { LatestFrameQueue } = await import(path.join(ROOT, 'services/detector/dist/frames/latest-frame-queue.js'));
const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STREAMS = (process.env.BENCH_OVERHEAD_STREAMS ?? '1,4').split(',').map(Number);
const frame = await cameraFrame('faces/identities/barack_obama/fr_obama1.jpg');

/** Calls `emit(stream)` for every stream at `fps`, staggered, for SECONDS; resolves after. */
function schedule(streams, fps, emit) {
  return new Promise((resolve) => {
    const timers = [];
    const t0 = Date.now();
    for (let s = 0; s < streams; s++) {
      timers.push(setTimeout(() => timers.push(setInterval(() => Date.now() - t0 < SECONDS * 1000 && emit(`s${s}`), 1000 / fps)), (s * 1000) / fps / streams));
    }
    setTimeout(() => {
      timers.forEach((t) => clearInterval(t));
      resolve();
    }, SECONDS * 1000 + 1500);
  });
}

/** The bare loop: one frame at a time, newest per stream first in line, like the detector. */
async function bare(streams, fps) {
  const { pipeline, settings, close } = await inProcessDetector();
  const reid = await inProcessReid();
  for (let i = 0; i < 5; i++) await reid.identify((await pipeline.analyze(frame, settings)).faces);
  const queue = new LatestFrameQueue();
  const latencies = [];
  let busy = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    for (let f = queue.shift(); f; f = queue.shift()) {
      const { faces } = await pipeline.analyze(frame, settings, { key: f.stream, captureMs: f.captureMs });
      await reid.identify(faces);
      latencies.push(Date.now() - f.captureMs);
    }
    busy = false;
  };
  await schedule(streams, fps, (stream) => {
    queue.push(stream, { stream, captureMs: Date.now() });
    void pump();
  });
  await Promise.all([close(), reid.close()]);
  return latencies;
}

async function services(streams, fps, env) {
  const latencies = [];
  await env.ws.send({ type: 'subscribe', room: env.room });
  await env.ws.next(testkit.isAck);
  const onMessage = (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === 'analysis' && msg.data.room === env.room) latencies.push(Date.now() - msg.data.captureMs);
  };
  env.ws.ws.on('message', onMessage);
  await schedule(streams, fps, (stream) => env.publisher.publish(env.room, stream, frame, { width: 640, height: 480 }));
  env.ws.ws.off('message', onMessage);
  return latencies;
}

const nats = await testkit.startNatsServer();
const rows = [];
try {
  const svc = {};
  for (const name of ['detector', 'reid', 'gateway']) svc[name] = await testkit.startService(name, nats.url, name === 'gateway' ? testkit.TEST_GATEWAY_ENV : {});
  const nc = await connect({ servers: nats.url });
  const ws = await gatewayClient(testkit, svc.gateway);
  const publisher = new testkit.FramePublisher(nc);
  let n = 0;
  for (const streams of STREAMS) {
    for (const [mode, fps] of [['latency', 5], ['throughput', 20]]) {
      const b = await bare(streams, fps);
      const s = await services(streams, fps, { ws, publisher, room: `overhead-${n++}` });
      const row = {
        streams,
        mode,
        offered_fps: streams * fps,
        bare: { fps: Math.round((b.length / SECONDS) * 10) / 10, latency_ms: summarize(b) },
        services: { fps: Math.round((s.length / SECONDS) * 10) / 10, latency_ms: summarize(s) },
      };
      row.added_p50_ms = Math.round((row.services.latency_ms.p50 - row.bare.latency_ms.p50) * 10) / 10;
      row.throughput_ratio = Math.round((row.services.fps / row.bare.fps) * 1000) / 1000;
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
  await ws.close();
  await nc.close();
} finally {
  await testkit.stopAllProcesses();
  await nats.stop();
}
console.log(`wrote ${writeResult('overhead', { command: 'npm run bench -- overhead (bench/overhead.mjs)', seconds_per_step: SECONDS, frame: '640×480 JPEG, one face, every analyzer on at default cadences', rows })}`);
