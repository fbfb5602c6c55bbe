// Side by side with the usual alternative (bench/baseline_aiortc.py: one Python process,
// aiortc + OpenCV cv2.dnn, face detection only), on the same video at the same rate:
//  baseline: aiortc loopback peers play the fixture video (VP8) → decode → 5 fps → cv2.dnn
//  lookout:  the same video ingested → SFU tap (5 fps JPEG) → NATS → detector (detection
//            only, like the baseline) → reid → gateway → WebSocket client
// Latency: decoded frame available → result (baseline: detection done; Lookout: the tap's
// JPEG to WebSocket receipt). CPU: every process involved, in % of one core.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { gatewayClient, ROOT, procStats, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { FIXTURES, childProcesses, isAck, sfuOk, startNatsServer, startService, stopAllProcesses, TEST_GATEWAY_ENV } = testkit;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SWEEP = (process.env.BENCH_BASELINE_STREAMS ?? '1,2,4,6').split(',').map(Number);
const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
// Debian's interpreter by path, not `python3` from PATH: a venv or pyenv python first on
// PATH has neither Debian package. BASELINE_PYTHON names another one that has both.
const PYTHON = process.env.BASELINE_PYTHON || '/usr/bin/python3';

const probe = spawnSync(PYTHON, ['-c', 'import aiortc, cv2'], { encoding: 'utf8' });
if (probe.status !== 0) {
  const why = probe.error ? probe.error.message : probe.stderr.trim().split('\n').pop();
  console.error(`baseline: ${PYTHON} cannot import aiortc and cv2 (${why}).`);
  console.error('It needs Debian\'s python3-aiortc and python3-opencv (apt-get install -y python3-aiortc python3-opencv), or BASELINE_PYTHON set to a python that has aiortc and opencv.');
  process.exit(1);
}

function baseline(streams) {
  const out = execFileSync(PYTHON, [path.join(ROOT, 'bench/baseline_aiortc.py'), '--streams', String(streams), '--seconds', String(SECONDS), '--video', path.join(FIXTURES, VIDEO), '--model', path.join(ROOT, 'models/fr_detect.onnx')], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

async function lookout(streams, env) {
  const room = `baseline-${streams}`;
  await sfuOk(env.nc, 'sfu-baseline', 'createRoom', { room, sampleFps: 5 });
  env.ws.send({ type: 'subscribe', room });
  await env.ws.next(isAck);
  const latencies = [];
  const counts = new Map();
  let measuring = false;
  let faces = 0;
  const onMessage = (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type !== 'analysis' || msg.data.room !== room || !measuring) return;
    latencies.push(Date.now() - msg.data.captureMs);
    counts.set(msg.data.stream, (counts.get(msg.data.stream) ?? 0) + 1);
    faces += msg.data.faces.length;
  };
  env.ws.ws.on('message', onMessage);
  await Promise.all(Array.from({ length: streams }, (_, s) => sfuOk(env.nc, 'sfu-baseline', 'ingest', { room, stream: `v${s}`, url: VIDEO, loop: true })));
  await new Promise((r) => setTimeout(r, 3000)); // warm-up, as the baseline
  const pids = [...env.pids, ...(await childProcesses(env.sfuPid, 'ffmpeg')), ...(await childProcesses(env.sfuPid, 'mediasoup-worke'))];
  const cpu0 = await Promise.all(pids.map(async (p) => (await procStats(p)).cpuSeconds));
  measuring = true;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  measuring = false;
  const wall = (Date.now() - t0) / 1000;
  const cpu1 = await Promise.all(pids.map(async (p) => (await procStats(p)).cpuSeconds));
  const cpu = cpu1.reduce((sum, c, i) => sum + c - cpu0[i], 0);
  env.ws.ws.off('message', onMessage);
  await sfuOk(env.nc, 'sfu-baseline', 'closeRoom', { room });
  const frames = [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    streams,
    frames_per_second_per_stream: Array.from({ length: streams }, (_, s) => Math.round(((counts.get(`v${s}`) ?? 0) / SECONDS) * 100) / 100),
    faces_per_frame: Math.round((faces / Math.max(1, frames)) * 100) / 100,
    latency_ms: summarize(latencies),
    cpu_percent: Math.round((cpu / wall) * 1000) / 10,
  };
}

const nats = await startNatsServer();
const rows = [];
try {
  const sfu = await startService('sfu', nats.url, { INSTANCE_ID: 'sfu-baseline', MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES });
  const others = await Promise.all(['detector', 'reid', 'gateway'].map((n) => startService(n, nats.url, n === 'detector' ? { ANALYZERS: '' } : n === 'gateway' ? TEST_GATEWAY_ENV : {})));
  const gateway = others[2];
  const nc = await connect({ servers: nats.url });
  const ws = await gatewayClient(testkit, gateway);
  const env = { nc, ws, sfuPid: sfu.child.pid, pids: [sfu.child.pid, ...others.map((s) => s.child.pid)] };
  for (const streams of SWEEP) {
    const ours = await lookout(streams, env);
    const theirs = baseline(streams);
    const row = { streams, lookout: ours, baseline: theirs };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  await ws.close();
  await nc.close();
} finally {
  await stopAllProcesses();
  await nats.stop();
}
console.log(`wrote ${writeResult('baseline', {
  command: 'npm run bench -- baseline (bench/baseline.mjs, bench/baseline_aiortc.py)',
  what: 'face detection only on both sides; the fixture video (VP8, 640×480, 15 fps) sampled at 5 fps per stream',
  seconds_per_step: SECONDS,
  rows,
})}`);
