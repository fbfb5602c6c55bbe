// The SFU's media path, for two kinds of publisher:
// - file: K file-ingest streams (ffmpeg → VP8 RTP → mediasoup → tap ffmpeg → JPEG on NATS
//   at 5 fps), in one room, once per ingest mode: `encode` (decode + VP8 encode, what an
//   RTSP camera costs) and `copy` (the VP8 file passed through; BENCH_INGEST_MODES);
// - camera: K RTSP ingests of one stand-in IP camera (testkit's RtspCamera: the GStreamer
//   RTSP server serving H.264 constrained baseline over RTSP/TCP), once per ingest mode:
//   `copy` (the camera's H.264 routed as it is) and `encode` (decoded and encoded to VP8, the
//   path every camera took before); the camera server's own CPU stands for the camera and is
//   not counted (it is reported apart);
// - chromium: K Chromium fake-camera pages (WebRTC, VP8, mediasoup-client) in one headless
//   Chromium, each publishing into its own room, tapped the same way.
// Measures time to first frame, frames delivered per stream, and CPU from /proc: the tap
// ffmpeg (decode + scale + MJPEG) per stream, the ingest ffmpeg (VP8 encode) per stream,
// and the whole Chromium (every process of it) that plays the fake cameras.
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { ROOT, cpuSecondsOf, serviceKit, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { decodeFrameHeaders, subjects } = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
const { FIXTURES, RtspCamera, RTSP_CAMERA_VIDEO, childProcesses, sfuCall, sfuOk, startNatsServer, startService, stopAllProcesses } = testkit;

const list = (s) => s.split(',').filter((x) => x.trim() !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SWEEP = list(process.env.BENCH_MEDIA_STREAMS ?? '1,2,4,8');
const CHROMIUM_SWEEP = list(process.env.BENCH_CHROMIUM_STREAMS ?? '1,2');
const CAMERA_SWEEP = list(process.env.BENCH_CAMERA_STREAMS ?? '1,2,4');
const INSTANCE = 'sfu-bench';
const MODES = (process.env.BENCH_INGEST_MODES ?? 'encode,copy').split(',').filter(Boolean);
for (const m of MODES) if (!['encode', 'copy'].includes(m)) throw new Error(`BENCH_INGEST_MODES: encode and/or copy, not ${m}`);
const FILE_FIXTURE = 'video/two-people-sequential-640x480-15fps.webm';
const FIRST_FRAME_TIMEOUT_MS = 30_000;
const round1 = (v) => Math.round(v * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, ok, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * K ingests in one room, measured for SECONDS once each has a first frame: frames, and the
 * CPU of the service's tap ffmpegs and ingest ffmpegs per stream. `check(info)` sees each
 * stream's room info (the path its ingest took) before the measurement.
 */
async function measureIngests({ nc, service, instance, room, k, url, streamPrefix, ffmpegOf, check }) {
  await sfuOk(nc, instance, 'createRoom', { room, sampleFps: 5 });
  const watchers = [];
  try {
    const t0 = Date.now();
    for (let s = 0; s < k; s++) {
      const w = watchStream(nc, room, `${streamPrefix}-${s}`);
      w.t0 = t0;
      watchers.push(w);
    }
    await Promise.all(watchers.map((w) => sfuOk(nc, instance, 'ingest', { room, stream: w.stream, url, loop: true })));
    await waitFor(`a first frame from each of ${k} streams`, () => watchers.every((w) => w.first !== undefined), FIRST_FRAME_TIMEOUT_MS);
    if (check) for (const info of (await sfuOk(nc, instance, 'getRoom', { room })).streams) check(info);
    const taps = await ffmpegOf('sdp', service);
    const ingests = await ffmpegOf('rtp://', service);
    const tap0 = await cpuSecondsOf(taps);
    const ingest0 = await cpuSecondsOf(ingests);
    for (const w of watchers) w.count = 0;
    const w0 = Date.now();
    await sleep(SECONDS * 1000);
    const wall = (Date.now() - w0) / 1000;
    const counts = watchers.map((w) => w.count);
    return {
      wall,
      first_frame_ms: summarize(watchers.map((w) => w.first - w.t0)),
      frames_per_stream: summarize(counts),
      frames_per_stream_min: Math.min(...counts),
      frames_per_second_per_stream: summarize(counts.map((c) => c / wall)),
      tap_ffmpeg_cpu_percent_per_stream: round1(((await cpuSecondsOf(taps)) - tap0) / wall / taps.length * 100),
      ingest_ffmpeg_cpu_percent_per_stream: round1(((await cpuSecondsOf(ingests)) - ingest0) / wall / ingests.length * 100),
    };
  } finally {
    for (const w of watchers) w.sub.unsubscribe();
    await sfuCall(nc, instance, 'closeRoom', { room }).catch(() => {});
  }
}

/** Counts the frames of one stream: time of the first, count, and how many were 640×480. */
function watchStream(nc, room, stream) {
  const w = { stream, t0: Date.now(), first: undefined, firstFull: undefined, count: 0, full: 0 };
  w.sub = nc.subscribe(subjects.frames(room, stream), {
    callback: (_err, m) => {
      const now = Date.now();
      let size;
      try {
        size = decodeFrameHeaders((n) => m.headers?.get(n) || undefined);
      } catch {
        size = { width: 0, height: 0 };
      }
      const isFull = size.width === 640 && size.height === 480;
      if (w.first === undefined) w.first = now;
      if (isFull && w.firstFull === undefined) w.firstFull = now;
      w.count++;
      if (isFull) w.full++;
    },
  });
  return w;
}

const nats = await startNatsServer();
const runs = [];
let chromiumInfo;
let cameraInfo;
try {
  const sfu = await startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES, RTC_LISTEN_IP: '127.0.0.1', LOG_LEVEL: 'info' });
  // A second instance that encodes every ingest (the passthrough setting is per instance).
  const encoder = MODES.includes('encode')
    ? await startService('sfu', nats.url, { INSTANCE_ID: `${INSTANCE}-encode`, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES, INGEST_PASSTHROUGH: 'false', RTC_MIN_PORT: '41000', RTC_MAX_PORT: '41999', TAP_PORT_MIN: '30000', TAP_PORT_MAX: '30999' })
    : undefined;
  const nc = await connect({ servers: nats.url });
  const ffmpegOf = async (needle, service = sfu) => {
    const out = [];
    for (const pid of await childProcesses(service.child.pid, 'ffmpeg')) {
      if ((await serviceKit.processCommandLine(pid))?.some((arg) => arg.includes(needle))) out.push(pid);
    }
    return out;
  };
  // A closed room's ffmpegs take up to ~1 s to stop; do not count them in the next run.
  const noFfmpegLeft = async () => {
    const until = Date.now() + 5000;
    const left = async () => (await Promise.all([sfu, encoder].filter(Boolean).map((x) => childProcesses(x.child.pid, 'ffmpeg')))).flat();
    while ((await left()).length > 0 && Date.now() < until) await sleep(100);
  };

  for (const [mode, k] of MODES.flatMap((m) => SWEEP.map((k) => [m, k]))) {
    await noFfmpegLeft();
    const service = mode === 'encode' ? encoder : sfu;
    const instance = mode === 'encode' ? `${INSTANCE}-encode` : INSTANCE;
    const { wall: _wall, ...measured } = await measureIngests({ nc, service, instance, room: `media-${mode}-${k}`, k, url: FILE_FIXTURE, streamPrefix: 'file', ffmpegOf });
    const run = { source: 'file', ingest_mode: mode, streams: k, ...measured };
    console.log(JSON.stringify(run));
    runs.push(run);
  }

  // Cameras: one RTSP server, every ingest a client of its one shared H.264 encoder.
  if (CAMERA_SWEEP.length > 0) {
    const camera = await RtspCamera.start();
    cameraInfo = { video: path.basename(RTSP_CAMERA_VIDEO) };
    try {
      for (const [mode, k] of MODES.flatMap((m) => CAMERA_SWEEP.map((k) => [m, k]))) {
        await noFfmpegLeft();
        const service = mode === 'encode' ? encoder : sfu;
        const instance = mode === 'encode' ? `${INSTANCE}-encode` : INSTANCE;
        const check = (info) => {
          if (info.ingest?.mode !== mode) throw new Error(`camera stream ${info.stream}: ingest ${JSON.stringify(info.ingest)}, expected ${mode}`);
          cameraInfo[mode] = info.ingest;
        };
        const cam0 = await cpuSecondsOf([camera.pid]);
        const t0 = Date.now();
        const { wall, ...measured } = await measureIngests({ nc, service, instance, room: `camera-${mode}-${k}`, k, url: camera.url, streamPrefix: 'cam', ffmpegOf, check });
        const run = {
          source: 'camera',
          ingest_mode: mode,
          streams: k,
          ...measured,
          // Not counted above: the camera's own encoder (one, shared by every client), for reference.
          camera_server_cpu_percent: round1(((await cpuSecondsOf([camera.pid])) - cam0) / ((Date.now() - t0) / 1000) * 100),
          measured_seconds: round1(wall),
        };
        console.log(JSON.stringify(run));
        runs.push(run);
      }
    } finally {
      await camera.stop();
    }
  }

  if (CHROMIUM_SWEEP.length > 0) {
    const { startChromiumPublishers, CHROMIUM_FIXTURE } = await import('./chromium-publisher.mjs');
    const publishers = await startChromiumPublishers({ nc, instance: INSTANCE });
    chromiumInfo = { fixture: CHROMIUM_FIXTURE, y4mSeconds: publishers.y4mSeconds };
    try {
      for (const k of CHROMIUM_SWEEP) {
        await noFfmpegLeft();
        const rooms = Array.from({ length: k }, (_, i) => `chromium-${k}-${i}`);
        const pages = [];
        const watchers = [];
        const created = [];
        try {
          for (const room of rooms) {
            await sfuOk(nc, INSTANCE, 'createRoom', { room, sampleFps: 5 });
            created.push(room);
          }
          for (let i = 0; i < k; i++) pages.push(await publishers.openPage());
          for (const room of rooms) watchers.push(watchStream(nc, room, 'camera'));
          // All pages publish at once; each stream's clock starts when its publish() is called.
          const connectedMs = await Promise.all(
            pages.map(async (page, i) => {
              watchers[i].t0 = Date.now();
              const r = await page.publish({ room: rooms[i], stream: 'camera', peer: `webcam-${i}`, codec: 'VP8' });
              if (r.connectionState !== 'connected') throw new Error(`${rooms[i]}: send transport ${r.connectionState}`);
              return Date.now() - watchers[i].t0;
            }),
          );
          await waitFor(`a first frame from each of ${k} Chromium publishers`, () => watchers.every((w) => w.first !== undefined), FIRST_FRAME_TIMEOUT_MS);
          const taps = await ffmpegOf('sdp');
          const browserPids = await publishers.pids();
          const tap0 = await cpuSecondsOf(taps);
          const chromium0 = await cpuSecondsOf(browserPids);
          for (const w of watchers) {
            w.count = 0;
            w.full = 0;
          }
          const w0 = Date.now();
          await sleep(SECONDS * 1000);
          const wall = (Date.now() - w0) / 1000;
          const chromiumPercent = (((await cpuSecondsOf(browserPids)) - chromium0) / wall) * 100;
          const counts = watchers.map((w) => w.count);
          const full = watchers.filter((w) => w.firstFull !== undefined);
          const run = {
            source: 'chromium',
            streams: k,
            connected_ms: summarize(connectedMs),
            first_frame_ms: summarize(watchers.map((w) => w.first - w.t0)),
            // Chrome may start below 640×480 while its bandwidth estimate ramps up.
            first_640x480_frame_ms: summarize(full.map((w) => w.firstFull - w.t0)),
            frames_per_stream: summarize(counts),
            frames_per_stream_min: Math.min(...counts),
            frames_per_second_per_stream: summarize(counts.map((c) => c / wall)),
            frames_640x480_percent: round1((watchers.reduce((a, w) => a + w.full, 0) / Math.max(1, counts.reduce((a, b) => a + b, 0))) * 100),
            tap_ffmpeg_cpu_percent_per_stream: round1(((await cpuSecondsOf(taps)) - tap0) / wall / taps.length * 100),
            chromium_cpu_percent: round1(chromiumPercent),
            chromium_cpu_percent_per_stream: round1(chromiumPercent / k),
            chromium_processes: browserPids.length,
          };
          console.log(JSON.stringify(run));
          runs.push(run);
        } finally {
          for (const w of watchers) w.sub.unsubscribe();
          for (const room of created) await sfuCall(nc, INSTANCE, 'closeRoom', { room }).catch(() => {});
          await Promise.all(pages.map((p) => p.close()));
        }
      }
    } finally {
      await publishers.close();
    }
  }
  await nc.close();
} finally {
  await stopAllProcesses();
  await nats.stop();
}
const result = {
  command: 'npm run bench -- media (bench/media.mjs)',
  source: `file ingest of ${path.basename(FILE_FIXTURE)} (VP8, looped), tapped at 5 fps, max width 640`,
  ...(cameraInfo && {
    camera_source: `RTSP/TCP from one stand-in IP camera (GStreamer RTSP server, testkit RtspCamera): ${cameraInfo.video} looped as H.264 ${cameraInfo.copy?.profileLevelId ? `${cameraInfo.copy.profileLevelId} ` : ''}constrained baseline, 15 fps, an IDR a second; every stream a client of it, tapped at 5 fps, max width 640. The camera server's CPU is not in the per-stream figures`,
  }),
  ...(chromiumInfo && {
    chromium_source: `headless Chromium (/usr/bin/chromium, playwright-core), one page per stream in its own room, fake camera playing the first ${chromiumInfo.y4mSeconds} s of ${path.basename(chromiumInfo.fixture)} as y4m (looped), mediasoup-client VP8 over loopback, tapped at 5 fps, max width 640`,
  }),
  seconds_per_step: SECONDS,
  runs,
};
console.log(`wrote ${writeResult('media', result)}`);
