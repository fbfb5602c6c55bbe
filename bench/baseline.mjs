// Side by side with the usual alternative (bench/baseline_aiortc.py: one Python process,
// aiortc + OpenCV cv2.dnn) on the same video, the same models and the same per-frame work:
//  peer:    aiortc loopback peers play the fixture video (VP8) → decode → 5 fps → cv2.dnn:
//           detect, landmarks, pose, eyes, aligned crop → embedding + search of 1,000
//           subjects; expression and liveness 1/s per stream
//  Lookout: the same video ingested → SFU tap (5 fps JPEG) → NATS → detector (the same
//           analyzers and cadences) → reid (embedding, search of 1,000 subjects seeded in
//           its gallery, tracks, rules) → gateway → WebSocket client
// Text detection (Lookout's default, 1/5 s) is off on both sides: cv2.dnn 4.6 cannot load
// its model. BENCH_BASELINE_WORK=detect compares face detection only (ANALYZERS=none).
// Per row: delivered fraction, p50/p95, CPU of every process (Lookout: nats-server, SFU and
// its ffmpegs and mediasoup-worker, detector, reid, gateway; peer: its one process, its
// senders' VP8 encode included) and per stream. The answer: the most streams each holds
// at p95 < 500 ms with < 1% dropped.
// Both sides play a copy of the fixture video whose frames carry their index as a bar code
// (lib.mjs stampedVideo). Latency, both on the source's media clock (the fastest frame
// counts as on time; waiting anywhere after that counts): peer, from when the frame was due
// on the sender's clock to its results; Lookout, from when the tapped frame was due on the
// ingest's media clock (read from its bar code) to WebSocket receipt. Lookout's tap-emit →
// WebSocket latency is kept beside it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { cpuByRole, cpuPercentByRole, everyProcess, gatewayClient, mediaClock, reidCounts, reidRates, ROOT, seedGallery, stampedVideo, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { subjects } = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
const { FIXTURES, isAck, sfuOk, startNatsServer, startService, stopAllProcesses, TEST_GATEWAY_ENV } = testkit;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SWEEP = (process.env.BENCH_BASELINE_STREAMS ?? '1,2,3,4,6,8').split(',').map(Number);
const WORK = process.env.BENCH_BASELINE_WORK ?? 'full';
if (!['full', 'detect'].includes(WORK)) throw new Error(`BENCH_BASELINE_WORK: full or detect, not ${WORK}`);
const GALLERY = 1000;
const FPS = 5;
const WARMUP_MS = 3000;
const FIXTURE_VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
const VIDEO_FRAMES = 180; // the fixture's 12 s at 15 fps
const videoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-baseline-video-'));
const VIDEO = path.basename(stampedVideo(path.join(videoDir, 'two-people-stamped.webm'), ['-i', path.join(FIXTURES, FIXTURE_VIDEO)], VIDEO_FRAMES));
// Lookout's default analyzers less text (see above); none = face detection only.
const ANALYZERS = WORK === 'full' ? 'landmarks,pose,eyes,expression,liveness,crops' : 'none';
// Debian's interpreter by path, not `python3` from PATH: a venv or pyenv python first on
// PATH has neither Debian package. BASELINE_PYTHON names another one that has both.
const PYTHON = process.env.BASELINE_PYTHON || '/usr/bin/python3';

const probe = spawnSync(PYTHON, ['-c', 'import aiortc, cv2'], { encoding: 'utf8' });
if (probe.status !== 0) {
  const why = probe.error ? probe.error.message : probe.stderr.trim().split('\n').pop();
  console.error(`baseline: ${PYTHON} cannot import aiortc and cv2 (${why}).`);
  console.error("It needs Debian's python3-aiortc and python3-opencv (npm run setup installs them), or BASELINE_PYTHON set to a python that has aiortc and opencv.");
  process.exit(1);
}

const held = (r) => r.latency_ms.p95 < 500 && 1 - r.delivered_fraction < 0.01;

/**
 * One run of the peer. Asynchronous: a peer past its knee runs long, and a bench process
 * blocked on it could not answer the gateway's WebSocket pings (the socket was closed and
 * the next Lookout row timed out waiting for its subscribe ack).
 */
async function peer(streams) {
  const args = [path.join(ROOT, 'bench/baseline_aiortc.py'), '--streams', String(streams), '--seconds', String(SECONDS), '--fps', String(FPS), '--video', path.join(videoDir, VIDEO), '--models', path.join(ROOT, 'models'), '--work', WORK, '--gallery', String(GALLERY)];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const code = await new Promise((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`baseline_aiortc.py exited with ${code}`);
  const r = JSON.parse(out.trim().split('\n').pop());
  return { ...r, held: held(r) };
}

async function lookout(streams, env) {
  const room = `baseline-${streams}`;
  await sfuOk(env.nc, 'sfu-baseline', 'createRoom', { room, sampleFps: FPS });
  env.ws.send({ type: 'subscribe', room });
  await env.ws.next(isAck);
  const latencies = [];
  const receipts = [];
  const clock = mediaClock(VIDEO_FRAMES);
  const counts = new Map();
  const window = { from: Infinity, to: Infinity };
  let published = 0;
  let faces = 0;
  let delivered = 0;
  const inWindow = (captureMs) => captureMs >= window.from && captureMs < window.to;
  // Frames the tap published in the window, and analyses of those frames received.
  const subs = Array.from({ length: streams }, (_, s) =>
    env.nc.subscribe(subjects.frames(room, `v${s}`), {
      callback: (_e, m) => {
        if (inWindow(Date.now())) published++;
        const captureMs = Number(m.headers?.get('Lookout-Capture-Ms') ?? NaN);
        if (Number.isFinite(captureMs)) void clock.frame(`v${s}`, captureMs, m.data).catch(() => {});
      },
    }),
  );
  const onMessage = (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type !== 'analysis' || msg.data.room !== room || !inWindow(msg.data.captureMs)) return;
    latencies.push(Date.now() - msg.data.captureMs);
    receipts.push([msg.data.stream, msg.data.captureMs, Date.now()]);
    counts.set(msg.data.stream, (counts.get(msg.data.stream) ?? 0) + 1);
    faces += msg.data.faces.length;
    delivered++;
  };
  env.ws.ws.on('message', onMessage);
  await Promise.all(Array.from({ length: streams }, (_, s) => sfuOk(env.nc, 'sfu-baseline', 'ingest', { room, stream: `v${s}`, url: VIDEO, loop: true })));
  await new Promise((r) => setTimeout(r, WARMUP_MS)); // warm-up, as the peer
  const procs = await everyProcess(env.services);
  const cpu0 = await cpuByRole(procs);
  const reid0 = reidCounts((await env.reid.get('/metrics')).body);
  window.from = Date.now();
  window.to = window.from + SECONDS * 1000;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const wall = (Date.now() - window.from) / 1000;
  const cpu = cpuPercentByRole(cpu0, await cpuByRole(procs), wall);
  const reid = reidRates(reid0, reidCounts((await env.reid.get('/metrics')).body), wall);
  await new Promise((r) => setTimeout(r, 1500)); // the window's last frames arrive (stale ones never do)
  env.ws.ws.off('message', onMessage);
  for (const s of subs) s.unsubscribe();
  await sfuOk(env.nc, 'sfu-baseline', 'closeRoom', { room });
  const r = {
    streams,
    published,
    delivered_fraction: Math.round((delivered / Math.max(1, published)) * 1000) / 1000,
    frames_per_second_per_stream: Array.from({ length: streams }, (_, s) => Math.round(((counts.get(`v${s}`) ?? 0) / SECONDS) * 100) / 100),
    faces_per_frame: Math.round((faces / Math.max(1, delivered)) * 100) / 100,
    latency_ms: summarize(receipts.map(([st, c, r]) => clock.latency(st, c, r)).filter((v) => v !== undefined)),
    tap_emit_latency_ms: summarize(latencies),
    cpu_percent: cpu.total,
    cpu_percent_per_stream: Math.round((cpu.total / streams) * 10) / 10,
    cpu_percent_by_process: cpu,
    reid,
  };
  return { ...r, held: held(r) };
}

const nats = await startNatsServer();
const rows = [];
try {
  // The peer's senders encode the video they play (in its process, counted in its CPU), so
  // Lookout's ingest encodes it too rather than passing the VP8 file through.
  const sfu = await startService('sfu', nats.url, { INSTANCE_ID: 'sfu-baseline', MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: videoDir, INGEST_PASSTHROUGH: 'false' });
  const [detector, reid, gateway] = await Promise.all(['detector', 'reid', 'gateway'].map((n) => startService(n, nats.url, n === 'detector' ? { ANALYZERS } : n === 'gateway' ? TEST_GATEWAY_ENV : {})));
  const nc = await connect({ servers: nats.url });
  if (WORK === 'full') await seedGallery(nc, GALLERY);
  const ws = await gatewayClient(testkit, gateway);
  const env = { nc, ws, reid, services: { sfu: sfu.child.pid, detector: detector.child.pid, reid: reid.child.pid, gateway: gateway.child.pid } };
  for (const streams of SWEEP) {
    const ours = await lookout(streams, env);
    const theirs = await peer(streams);
    const row = { streams, lookout: ours, baseline: theirs };
    console.log(JSON.stringify({ streams, lookout: { held: ours.held, delivered: ours.delivered_fraction, p50: ours.latency_ms.p50, p95: ours.latency_ms.p95, cpu: ours.cpu_percent }, peer: { held: theirs.held, delivered: theirs.delivered_fraction, p50: theirs.latency_ms.p50, p95: theirs.latency_ms.p95, cpu: theirs.cpu_percent } }));
    rows.push(row);
  }
  await ws.close();
  await nc.close();
} finally {
  await stopAllProcesses();
  await nats.stop();
  fs.rmSync(videoDir, { recursive: true, force: true });
}
const most = (side) => Math.max(0, ...rows.filter((r) => r[side].held).map((r) => r.streams));
console.log(`wrote ${writeResult('baseline', {
  command: `npm run bench -- baseline (bench/baseline.mjs, bench/baseline_aiortc.py)${WORK === 'detect' ? ' with BENCH_BASELINE_WORK=detect' : ''}`,
  work: WORK,
  what:
    WORK === 'full'
      ? `the same work on both sides: detect, landmarks, pose, eyes, aligned crop, embedding + search of ${GALLERY.toLocaleString('en')} subjects every frame; expression and liveness 1/s per stream (Lookout ANALYZERS=${ANALYZERS}; text off on both: cv2.dnn 4.6 cannot load its model). The same results each frame, not the same model runs: Lookout runs the pose model again only when a face's shape moved or its pose is 1 s old, and embeds per track when a cue asks for it (embeddings/s column); the peer runs both on every face of every frame; the fixture video (VP8, 640×480, 15 fps; bar-coded: 640×456 below a 24 px strip) sampled at ${FPS} fps per stream`
      : `face detection only on both sides (Lookout ANALYZERS=none); the fixture video (VP8, 640×480, 15 fps; bar-coded: 640×456 below a 24 px strip) sampled at ${FPS} fps per stream`,
  latency: { baseline: 'frame due on the sender media clock → results (in-process, queueing included)', lookout: 'latency_ms: frame due on the ingest media clock (bar code in the picture) → WebSocket receipt; tap_emit_latency_ms: tap emit → WebSocket receipt' },
  seconds_per_step: SECONDS,
  rows,
  max_streams_p95_under_500ms_and_under_1pct_dropped: { lookout: most('lookout'), baseline: most('baseline') },
})}`);
