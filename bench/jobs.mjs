// Recording jobs (issue 20, docs/jobs.md): how fast a recorded video is analysed, and what
// a running job costs the live streams beside it. Real nats-server, BENCH_JOB_DETECTORS
// detector processes (default "1,2": one run each), reid and the gateway; the video is the
// two-person fixture (12 s, 640×480) looped to BENCH_JOB_VIDEO_S seconds (default 60),
// uploaded through `POST /jobs` and sampled at 5 fps with every default analyzer.
// Reported per replica count: video seconds analysed per wall second (the job's
// startedMs → endedMs: sampling to the last frame through reid, upload and probe excluded),
// frames, and the CPU of every process. Live cost: one synthetic one-face stream at 5 fps
// (JPEGs published on NATS, as bench/pipeline.mjs) → WebSocket; capture → WebSocket p50/p95
// and frames delivered, first with no job (BENCH_SECONDS) and then while a job runs.
//   npm run bench -- jobs      (or node bench/jobs.mjs, after `npx tsc -b`)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { cameraFrame, cpuByRole, cpuPercentByRole, everyProcess, gatewayClient, ROOT, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { FramePublisher, startNatsServer, startService, stopAllProcesses, TEST_ADMIN_KEY, TEST_GATEWAY_ENV } = testkit;
const REPLICAS = (process.env.BENCH_JOB_DETECTORS ?? '1,2').split(',').map(Number);
const VIDEO_S = Number(process.env.BENCH_JOB_VIDEO_S ?? 60);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// The gateway's JOB_WINDOW (frames of the job at the detectors at once); unset: its default.
const WINDOW = process.env.BENCH_JOB_WINDOW;
const LIVE_FPS = 5;
const SOURCE = path.join(ROOT, 'test/fixtures/video/two-people-sequential-640x480-15fps.webm');

/** The fixture looped to VIDEO_S seconds (stream copy: no encode). */
function longVideo(dir) {
  const out = path.join(dir, `two-people-${VIDEO_S}s.webm`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-stream_loop', '-1', '-i', SOURCE, '-t', String(VIDEO_S), '-c', 'copy', out]);
  return out;
}

async function api(base, method, route, body, headers = {}) {
  const res = await fetch(`${base}/api/v1${route}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers }, ...(body ? { body } : {}) });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Publishes one live stream at LIVE_FPS and records, per frame (by capture time), when its
 * analysis reached the WebSocket. A window counts the frames captured in it, and how many
 * of them were delivered and how late (an analysis that comes after the window closes
 * still counts for its frame, read once the window is taken).
 */
function liveStream(nc, ws, frame) {
  const publisher = new FramePublisher(nc);
  const sentAt = [];
  const latencyOf = new Map();
  const onMessage = (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'analysis' && m.data.room === 'live') latencyOf.set(m.data.captureMs, Date.now() - m.data.captureMs);
  };
  ws.ws.on('message', onMessage);
  const timer = setInterval(() => sentAt.push(publisher.publish('live', 'cam', frame, { width: 640, height: 480 }).captureMs), 1000 / LIVE_FPS);
  return {
    /** Starts a window; the function it returns closes it and reads it (after a 2 s grace for late analyses). */
    window() {
      const from = Date.now();
      return async () => {
        const to = Date.now();
        await new Promise((r) => setTimeout(r, 2000));
        const inWindow = sentAt.filter((t) => t >= from && t < to);
        const latencies = inWindow.map((t) => latencyOf.get(t)).filter((v) => v !== undefined);
        return { latency: summarize(latencies), delivered: latencies.length, sent: inWindow.length };
      };
    },
    stop() {
      clearInterval(timer);
      ws.ws.off('message', onMessage);
    },
  };
}

async function waitForJob(base, jobId, onTick) {
  for (;;) {
    const info = await api(base, 'GET', `/jobs/${jobId}`);
    onTick?.(info);
    if (['done', 'failed', 'cancelled'].includes(info.status)) return info;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function run(replicas, video, frame) {
  const jobsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-jobs-'));
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url, name: 'jobs-bench' });
  try {
    const detectors = [];
    for (let i = 0; i < replicas; i++) detectors.push(await startService('detector', nats.url));
    const reid = await startService('reid', nats.url);
    const gateway = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, JOBS_DIR: jobsDir, ...(WINDOW ? { JOB_WINDOW: WINDOW } : {}) });
    const base = `http://127.0.0.1:${gateway.httpPort}`;
    const ws = await gatewayClient(testkit, gateway);
    await ws.subscribe('live', ['analysis']);
    const live = liveStream(nc, ws, frame);
    await new Promise((r) => setTimeout(r, 3000)); // warm-up: models loaded, cadences settled

    const idle = live.window();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const idleLive = await idle();

    const pids = await everyProcess({ ...Object.fromEntries(detectors.map((d, i) => [`detector-${i + 1}`, d.child.pid])), reid: reid.child.pid, gateway: gateway.child.pid });
    const cpuBefore = await cpuByRole(pids);
    const t0 = Date.now();
    const created = await api(base, 'POST', `/jobs?name=bench&fps=5`, fs.readFileSync(video), { 'content-type': 'video/webm', 'x-file-name': path.basename(video) });
    let during;
    let closeWindow;
    const done = await waitForJob(base, created.jobId, (info) => {
      // The live window covers the job's sampling only (not its upload and probe).
      if (info.status === 'running' && !during) during = live.window();
      if (info.status !== 'running' && during && !closeWindow) closeWindow = during();
    });
    const wallS = (Date.now() - t0) / 1000;
    const cpuAfter = await cpuByRole(pids);
    const busy = await (closeWindow ?? during?.());
    // Mean time each service took to answer a job frame (queueing behind live frames included).
    const served = async (svc, op) => {
      const text = (await svc.get('/metrics')).body;
      const n = testkit.metricValue(text, 'lookout_rpc_served_seconds_count', { op });
      return n ? Math.round((testkit.metricValue(text, 'lookout_rpc_served_seconds_sum', { op }) / n) * 10000) / 10 : null;
    };
    const detectorMs = await Promise.all(detectors.map((d) => served(d, 'detector.analyze_frame')));
    const reidMs = await served(reid, 'reid.analyze_frame');
    const cpu = cpuPercentByRole(cpuBefore, cpuAfter, wallS);
    live.stop();
    await ws.close();
    if (done.status !== 'done') throw new Error(`job ended ${done.status}: ${JSON.stringify(done.error)}`);
    const runS = (done.endedMs - done.startedMs) / 1000;
    const result = {
      detectorReplicas: replicas,
      window: Number(WINDOW ?? 0) || 'default',
      videoSeconds: done.durationMs / 1000,
      fps: done.fps,
      framesDone: done.framesDone,
      framesFailed: done.framesFailed,
      framesTotal: done.framesTotal,
      jobSeconds: +runS.toFixed(2),
      videoSecondsPerSecond: +(done.durationMs / 1000 / runS).toFixed(2),
      framesPerSecond: +(done.framesDone / runS).toFixed(1),
      uploadToDoneSeconds: +wallS.toFixed(2),
      detectorMsPerFrame: detectorMs,
      reidMsPerFrame: reidMs,
      cpuPercent: cpu,
      liveIdle: idleLive,
      liveDuringJob: busy,
    };
    console.log(`jobs ${replicas} detector(s): ${JSON.stringify(result)}`);
    return result;
  } finally {
    await nc.close();
    await stopAllProcesses();
    await nats.stop();
    fs.rmSync(jobsDir, { recursive: true, force: true });
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-video-'));
try {
  const video = longVideo(dir);
  const frame = await cameraFrame('faces/identities/barack_obama/fr_obama1.jpg');
  const runs = [];
  for (const n of REPLICAS) runs.push(await run(n, video, frame));
  console.log(`results: ${writeResult('jobs', { videoSeconds: VIDEO_S, liveFps: LIVE_FPS, runs })}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
