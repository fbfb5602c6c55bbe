// The SFU's media path, for two kinds of publisher:
// - file: K file-ingest streams (ffmpeg → VP8 RTP → mediasoup → tap ffmpeg → JPEG on NATS
//   at 5 fps), in one room, once per ingest mode: `encode` (decode + VP8 encode, what an
//   RTSP camera costs) and `copy` (the VP8 file passed through; BENCH_INGEST_MODES);
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
const { FIXTURES, childProcesses, sfuCall, sfuOk, startNatsServer, startService, stopAllProcesses } = testkit;

const list = (s) => s.split(',').filter((x) => x.trim() !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SWEEP = list(process.env.BENCH_MEDIA_STREAMS ?? '1,2,4,8');
const CHROMIUM_SWEEP = list(process.env.BENCH_CHROMIUM_STREAMS ?? '1,2');
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
    const room = `media-${mode}-${k}`;
    await sfuOk(nc, instance, 'createRoom', { room, sampleFps: 5 });
    const watchers = [];
    try {
      const t0 = Date.now();
      for (let s = 0; s < k; s++) {
        const w = watchStream(nc, room, `file-${s}`);
        w.t0 = t0;
        watchers.push(w);
      }
      await Promise.all(watchers.map((w) => sfuOk(nc, instance, 'ingest', { room, stream: w.stream, url: FILE_FIXTURE, loop: true })));
      await waitFor(`a first frame from each of ${k} file streams`, () => watchers.every((w) => w.first !== undefined), FIRST_FRAME_TIMEOUT_MS);
      const taps = await ffmpegOf('sdp', service);
      const ingests = await ffmpegOf('rtp://', service);
      const tap0 = await cpuSecondsOf(taps);
      const ingest0 = await cpuSecondsOf(ingests);
      for (const w of watchers) w.count = 0;
      const w0 = Date.now();
      await sleep(SECONDS * 1000);
      const wall = (Date.now() - w0) / 1000;
      const counts = watchers.map((w) => w.count);
      const run = {
        source: 'file',
        ingest_mode: mode,
        streams: k,
        first_frame_ms: summarize(watchers.map((w) => w.first - w.t0)),
        frames_per_stream: summarize(counts),
        frames_per_stream_min: Math.min(...counts),
        frames_per_second_per_stream: summarize(counts.map((c) => c / wall)),
        tap_ffmpeg_cpu_percent_per_stream: round1(((await cpuSecondsOf(taps)) - tap0) / wall / taps.length * 100),
        ingest_ffmpeg_cpu_percent_per_stream: round1(((await cpuSecondsOf(ingests)) - ingest0) / wall / ingests.length * 100),
      };
      console.log(JSON.stringify(run));
      runs.push(run);
    } finally {
      for (const w of watchers) w.sub.unsubscribe();
      await sfuCall(nc, instance, 'closeRoom', { room }).catch(() => {});
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
  ...(chromiumInfo && {
    chromium_source: `headless Chromium (/usr/bin/chromium, playwright-core), one page per stream in its own room, fake camera playing the first ${chromiumInfo.y4mSeconds} s of ${path.basename(chromiumInfo.fixture)} as y4m (looped), mediasoup-client VP8 over loopback, tapped at 5 fps, max width 640`,
  }),
  seconds_per_step: SECONDS,
  runs,
};
console.log(`wrote ${writeResult('media', result)}`);
