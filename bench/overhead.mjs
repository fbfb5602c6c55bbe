// What the distributed pipeline costs over a bare in-process loop, on the same frames:
//  bare:     frames → FacePipeline (decode + the same models and cadences) in one worker
//            thread → embedding + gallery search (reid's model and index) in another, so
//            the bare side runs on two cores like the services (bench/overhead-worker.mjs)
//  services: frames → NATS → detector → reid → gateway → WebSocket client
// Latency: N one-face streams × 5 fps, capture time → result (p50/p95).
// Throughput: the same N streams offered faster than either can take (20 fps each), frames
// completed per second.
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import { cameraFrame, gatewayClient, ROOT, seedGallery, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STREAMS = (process.env.BENCH_OVERHEAD_STREAMS ?? '1,4').split(',').map(Number);
const FIXTURE = 'faces/identities/barack_obama/fr_obama1.jpg';
const frame = await cameraFrame(FIXTURE);

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

/** A worker of bench/overhead-worker.mjs, once it has loaded its models. */
async function startWorker(role) {
  const worker = new Worker(new URL('./overhead-worker.mjs', import.meta.url), { workerData: { role, fixture: FIXTURE } });
  await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m) => m.ready && resolve());
  });
  return worker;
}

async function stopWorker(worker) {
  const closed = new Promise((resolve) => worker.on('message', (m) => m.closed && resolve()));
  worker.postMessage({ close: true });
  await closed;
  await worker.terminate();
}

/** The bare loop: detection in one thread (newest frame per stream first in line, like the detector), embedding in another. */
async function bare(streams, fps) {
  const [detect, embed] = await Promise.all([startWorker('detect'), startWorker('embed')]);
  const { port1, port2 } = new MessageChannel();
  detect.postMessage({ port: port1 }, [port1]);
  embed.postMessage({ port: port2 }, [port2]);
  const latencies = [];
  embed.on('message', (m) => m.done !== undefined && latencies.push(m.at - m.done));
  await schedule(streams, fps, (stream) => detect.postMessage({ frame: { stream, captureMs: Date.now() } }));
  await Promise.all([stopWorker(detect), stopWorker(embed)]);
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
  await seedGallery(nc, 1000); // the bare side searches 1,000 subjects too
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
console.log(`wrote ${writeResult('overhead', { command: 'npm run bench -- overhead (bench/overhead.mjs)', seconds_per_step: SECONDS, frame: '640×480 JPEG, one face, every analyzer on at default cadences', bare: 'two worker threads (detection; embedding + search of 1,000 subjects), like the services on two cores', latency: 'frame handed to the detector (bare) or published to NATS (services) → result', rows })}`);
