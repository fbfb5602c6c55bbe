// The SFU's media path: K file-ingest streams (ffmpeg → VP8 RTP → mediasoup → tap ffmpeg →
// JPEG on NATS at 5 fps). Measures time to first frame, frames delivered per stream, and
// CPU of the tap ffmpeg (decode + scale + MJPEG) and of the ingest ffmpeg (VP8 encode)
// per stream, read from /proc.
import fs from 'node:fs';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { ROOT, procStats, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { subjects } = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
const { FIXTURES, childProcesses, sfuOk, startNatsServer, startService, stopAllProcesses } = testkit;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SWEEP = (process.env.BENCH_MEDIA_STREAMS ?? '1,2,4,8').split(',').map(Number);
const INSTANCE = 'sfu-bench';

const nats = await startNatsServer();
const runs = [];
try {
  const sfu = await startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES, LOG_LEVEL: 'info' });
  const nc = await connect({ servers: nats.url });
  const ffmpegOf = async (needle) => {
    const out = [];
    for (const pid of await childProcesses(sfu.child.pid, 'ffmpeg')) {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(pid);
    }
    return out;
  };
  for (const k of SWEEP) {
    const room = `media-${k}`;
    await sfuOk(nc, INSTANCE, 'createRoom', { room, sampleFps: 5 });
    const counts = new Map();
    const first = [];
    const started = new Set();
    const t0 = Date.now();
    for (let s = 0; s < k; s++) {
      const stream = `file-${s}`;
      counts.set(stream, 0);
      nc.subscribe(subjects.frames(room, stream), {
        callback: () => {
          if (!started.has(stream)) {
            started.add(stream);
            first.push(Date.now() - t0);
          }
          counts.set(stream, counts.get(stream) + 1);
        },
      });
    }
    await Promise.all([...counts.keys()].map((stream) => sfuOk(nc, INSTANCE, 'ingest', { room, stream, url: 'video/two-people-sequential-640x480-15fps.webm', loop: true })));
    while (first.length < k) await new Promise((r) => setTimeout(r, 50));
    const taps = await ffmpegOf('sdp');
    const ingests = await ffmpegOf('rtp://');
    const cpu0 = [...taps, ...ingests].map((p) => procStats(p).cpuSeconds);
    for (const key of counts.keys()) counts.set(key, 0);
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const wall = (Date.now() - w0) / 1000;
    const cpu1 = [...taps, ...ingests].map((p) => procStats(p).cpuSeconds);
    const pct = (from, n) => Math.round((cpu1.slice(from, from + n).reduce((a, b) => a + b, 0) - cpu0.slice(from, from + n).reduce((a, b) => a + b, 0)) / wall / n * 1000) / 10;
    const run = {
      streams: k,
      first_frame_ms: summarize(first),
      frames_per_second_per_stream: summarize([...counts.values()].map((c) => c / wall)),
      tap_ffmpeg_cpu_percent_per_stream: pct(0, taps.length),
      ingest_ffmpeg_cpu_percent_per_stream: pct(taps.length, ingests.length),
    };
    console.log(JSON.stringify(run));
    runs.push(run);
    await sfuOk(nc, INSTANCE, 'closeRoom', { room });
  }
  await nc.close();
} finally {
  await stopAllProcesses();
  await nats.stop();
}
const result = {
  command: 'npm run bench -- media (bench/media.mjs)',
  source: 'file ingest of two-people-sequential-640x480-15fps.webm (VP8, looped), tapped at 5 fps, max width 640',
  seconds_per_step: SECONDS,
  runs,
};
console.log(`wrote ${writeResult('media', result)}`);
