// The pipeline under load: N synthetic streams publish 640×480 JPEG frames at 5 fps onto a
// real nats-server → detector (every analyzer on, default cadences) → reid → gateway → one
// WebSocket client. reid's gallery holds 1,000 subjects. Latency is from the bench's publish
// to NATS (the frames' captureMs: these JPEGs skip the SFU) → WebSocket receipt. Sweeps N
// upward, once with one face per frame (a proctoring webcam) and once with four (a small
// group on a camera). CPU: every process (nats-server, detector, reid, gateway); faces/s and
// embeddings/s from reid's counters where it exports them.
// BENCH_PIPELINE_SOURCE=sfu sends the frames through the SFU instead: each stream is a file
// ingest (ffmpeg → VP8 RTP → mediasoup → tap ffmpeg → 5 fps JPEG on NATS) of a VP8 video made
// here from the same still image, with each frame's index in a bar code below the picture
// (lib.mjs stampedVideo). The ingest passes the VP8 through as a webcam's WebRTC VP8 would
// arrive (BENCH_INGEST=copy, the default) or encodes it again as an RTSP camera's video
// would be (BENCH_INGEST=encode; results in their own file);
// latency is then measured twice: from the frame's time on the source's media clock
// (mediaClock below; this one decides "held") and from the tap's JPEG (tap emit), both to
// WebSocket receipt; the SFU, its ffmpegs and mediasoup-worker count in "every process".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { cameraFrame, cpuByRole, cpuPercentByRole, everyProcess, gatewayClient, mediaClock, procStats, quantile, reidCounts, reidRates, ROOT, seedGallery, stampedVideo, summarize, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { FramePublisher, isAck, metricValue, sfuOk, startNatsServer, startService, stopAllProcesses, TEST_GATEWAY_ENV } = testkit;
const { subjects } = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
const SOURCE = process.env.BENCH_PIPELINE_SOURCE ?? 'nats';
if (!['nats', 'sfu'].includes(SOURCE)) throw new Error(`BENCH_PIPELINE_SOURCE: nats or sfu, not ${SOURCE}`);
const SFU = 'sfu-pipeline';
const INGEST = process.env.BENCH_INGEST ?? 'copy';
if (!['copy', 'encode'].includes(INGEST)) throw new Error(`BENCH_INGEST: copy or encode, not ${INGEST}`);
const WARMUP_MS = 3000;


const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// Detector replicas (processes): one is single-threaded, so on 2 cores a second one is how
// the detector uses the other core. Results with more than one go to their own file.
const DETECTORS = Number(process.env.BENCH_DETECTORS ?? 1);
const SWEEPS = {
  one_face: { file: 'faces/identities/barack_obama/fr_obama1.jpg', streams: (process.env.BENCH_STREAMS ?? '1,2,4,6,8,10,12').split(',').map(Number) },
  four_faces: { file: 'faces/group/fa_bbt1.jpg', streams: (process.env.BENCH_STREAMS_GROUP ?? '1,2,3').split(',').map(Number) },
};
const FPS = 5;
const STAGES = ['queue', 'decode', 'detect', 'landmarks', 'pose', 'eyes', 'expression', 'liveness', 'crops', 'text'];
const GALLERY = 1000;

/** A 20 s VP8 video of a fixture image, bar-coded (lib.mjs stampedVideo), for the SFU to ingest (looped). */
function stillVideo(dir, fixture) {
  return path.basename(stampedVideo(path.join(dir, `${path.basename(fixture, path.extname(fixture))}.webm`), ['-loop', '1', '-framerate', '15', '-i', path.join(testkit.FIXTURES, fixture)], 300));
}

const nats = await startNatsServer();
const services = {};
const runs = [];
try {
  const videoDir = SOURCE === 'sfu' ? fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-video-')) : undefined;
  if (SOURCE === 'sfu') services.sfu = await startService('sfu', nats.url, { INSTANCE_ID: SFU, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: videoDir, INGEST_PASSTHROUGH: String(INGEST === 'copy') });
  for (const name of ['detector', 'reid', 'gateway']) services[name] = await startService(name, nats.url, name === 'gateway' ? TEST_GATEWAY_ENV : {});
  for (let i = 2; i <= DETECTORS; i++) services[`detector${i}`] = await startService('detector', nats.url, { INSTANCE_ID: `detector-test-${i}` });
  const detectors = Object.keys(services).filter((n) => n.startsWith('detector')).map((n) => services[n]);
  const nc = await connect({ servers: nats.url });
  await seedGallery(nc, GALLERY);
  const publisher = new FramePublisher(nc);
  const everything = () => everyProcess(Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s.child.pid])));
  const ws = await gatewayClient(testkit, services.gateway);

  for (const [sweep, { file, streams: counts }] of Object.entries(SWEEPS)) {
  const frame = SOURCE === 'nats' ? await cameraFrame(file) : undefined;
  const video = SOURCE === 'sfu' ? stillVideo(videoDir, file) : undefined;
  for (const streams of counts) {
    const room = `bench-${sweep.replace('_', '-')}-${streams}`;
    ws.send({ type: 'subscribe', room });
    await ws.next(isAck);
    const latencies = [];
    const clock = mediaClock(300);
    const receipts = []; // sfu: [stream, captureMs, receivedMs], read against the media clock at the end
    let received = 0;
    // sfu: only frames the tap emitted in the measured window, and their analyses
    const window = SOURCE === 'sfu' ? { from: Infinity, to: Infinity } : { from: 0, to: Infinity };
    const inWindow = (ms) => ms >= window.from && ms < window.to;
    const onMessage = (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'analysis' && msg.data.room === room && inWindow(msg.data.captureMs)) {
        latencies.push(Date.now() - msg.data.captureMs);
        if (SOURCE === 'sfu') receipts.push([msg.data.stream, msg.data.captureMs, Date.now()]);
        received++;
      }
    };
    ws.ws.on('message', onMessage);
    let published = 0;
    const tapSubs = [];
    // sfu: time between a stream's consecutive tapped frames (200 ms at 5 fps; a burst is a short one)
    const tapGaps = [];
    const lastEmit = [];
    if (SOURCE === 'sfu') {
      await sfuOk(nc, SFU, 'createRoom', { room, sampleFps: FPS });
      for (let s = 0; s < streams; s++) {
        tapSubs.push(
          nc.subscribe(subjects.frames(room, `s${s}`), {
            callback: (_e, m) => {
              const captureMs = Number(m.headers?.get('Lookout-Capture-Ms') ?? NaN);
              // By the frame's capture time, as analyses are counted: receipt time here would
              // put a frame emitted just before the window's edge on the other side of it.
              if (inWindow(captureMs)) {
                published++;
                if (lastEmit[s] !== undefined) tapGaps.push(captureMs - lastEmit[s]);
              }
              lastEmit[s] = captureMs;
              if (Number.isFinite(captureMs)) void clock.frame(`s${s}`, captureMs, m.data).catch(() => {});
            },
          }),
        );
      }
      await Promise.all(Array.from({ length: streams }, (_, s) => sfuOk(nc, SFU, 'ingest', { room, stream: `s${s}`, url: video, loop: true })));
      // The SFU decides per file; a bench that meant to pass through but encoded would mislead.
      const started = metricValue((await services.sfu.get('/metrics')).body, 'lookout_sfu_ingests_started_total', { mode: INGEST });
      if (!(started >= streams)) throw new Error(`expected ${streams} ingests in mode ${INGEST}, the SFU reports ${started}`);
      await new Promise((r) => setTimeout(r, WARMUP_MS));
    }
    const procs = await everything();
    const { dropped: dropped0, stages: stages0 } = await detectorCounts(detectors);
    const cpu0 = await cpuByRole(procs);
    const self0 = process.cpuUsage();
    const reid0 = reidCounts((await services.reid.get('/metrics')).body);
    const t0 = Date.now();
    if (SOURCE === 'sfu') {
      window.from = t0;
      window.to = t0 + SECONDS * 1000;
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
    } else {
      // One tick per 1/(FPS) s publishes a frame for every stream, staggered within the tick.
      await new Promise((resolve) => {
        const timers = [];
        for (let s = 0; s < streams; s++) {
          const start = setTimeout(() => {
            const t = setInterval(() => {
              if (Date.now() - t0 >= SECONDS * 1000) return;
              publisher.publish(room, `s${s}`, frame, { width: 640, height: 480 });
              published++;
            }, 1000 / FPS);
            timers.push(t);
          }, (s * 1000) / FPS / streams);
          timers.push(start);
        }
        setTimeout(() => {
          timers.forEach(clearInterval);
          resolve();
        }, SECONDS * 1000 + 1000); // let the last frames drain
      });
    }
    const wall = (Date.now() - t0) / 1000;
    const cpu = cpuPercentByRole(cpu0, await cpuByRole(procs), wall);
    const self = process.cpuUsage(self0);
    const reid = reidRates(reid0, reidCounts((await services.reid.get('/metrics')).body), wall);
    if (SOURCE === 'sfu') {
      await new Promise((r) => setTimeout(r, 1500)); // the window's last frames arrive (stale ones never do)
      for (const sub of tapSubs) sub.unsubscribe();
      await sfuOk(nc, SFU, 'closeRoom', { room });
    }
    ws.ws.off('message', onMessage);
    const { dropped: dropped1, stages: stages1 } = await detectorCounts(detectors);
    const perService = Object.fromEntries(
      await Promise.all(
        Object.entries(services).map(async ([n, s]) => [n, { cpuPercent: Math.round(cpu[n]), rssMiB: (await procStats(s.child.pid)).rssMiB }]),
      ),
    );
    const droppedDelta = Object.fromEntries(Object.keys(dropped1).map((k) => [k, dropped1[k] - dropped0[k]]));
    const run = {
      sweep,
      source: SOURCE,
      streams,
      published,
      received,
      delivered_fraction: Math.round((received / published) * 1000) / 1000,
      processed_fps: Math.round((received / SECONDS) * 10) / 10,
      latency_ms: summarize(latencies),
      ...(SOURCE === 'sfu' && {
        media_clock_latency_ms: summarize(receipts.map(([st, c, r]) => clock.latency(st, c, r)).filter((v) => v !== undefined)),
        tap_interval_ms: { ...summarize(tapGaps), p5: quantile([...tapGaps].sort((a, b) => a - b), 0.05), under_100: tapGaps.filter((g) => g < 100).length },
      }),
      dropped: droppedDelta,
      detector_stage_mean_ms: stageMeans(stages0, stages1),
      services: perService,
      cpu_percent_by_process: cpu,
      // This process (publisher or bar-code reader, and the WebSocket client) shares the cores too.
      bench_client_cpu_percent: Math.round(((self.user + self.system) / 1e6 / wall) * 1000) / 10,
      reid,
    };
    console.log(JSON.stringify(run));
    runs.push(run);
    ws.send({ type: 'unsubscribe', room });
    await ws.next(isAck);
  }
  }
  await ws.close();
  await nc.close();
  if (videoDir) fs.rmSync(videoDir, { recursive: true, force: true });
} finally {
  await Promise.all(Object.values(services).map((s) => s.stop()));
  await stopAllProcesses();
  await nats.stop();
}

/**
 * One scrape of every detector replica, summed: frames dropped by reason, and per stage the
 * lookout_detector_stage_seconds sum and count.
 */
async function detectorCounts(detectors) {
  const texts = await Promise.all(detectors.map(async (d) => (await d.get('/metrics')).body));
  const total = (name, labels) => texts.reduce((sum, text) => sum + metricValue(text, name, labels), 0);
  return {
    dropped: Object.fromEntries(['stale', 'superseded', 'bad_frame'].map((reason) => [reason, total('lookout_detector_frames_dropped_total', { reason })])),
    stages: Object.fromEntries(STAGES.map((stage) => [stage, { sum: total('lookout_detector_stage_seconds_sum', { stage }), count: total('lookout_detector_stage_seconds_count', { stage }) }])),
  };
}

/** Mean ms per run of each stage over the window, and runs per processed frame (the slow analyzers run on few). */
function stageMeans(a, b) {
  const frames = b.decode.count - a.decode.count;
  return Object.fromEntries(
    STAGES.flatMap((st) => {
      const n = b[st].count - a[st].count;
      return n > 0 ? [[st, { ms: Math.round(((b[st].sum - a[st].sum) / n) * 1e5) / 100, per_frame: Math.round((n / Math.max(1, frames)) * 100) / 100 }]] : [];
    }),
  );
}

const capacity = (sweep) => {
  // Through the SFU, the media-clock latency (closest to capture) decides.
  const p95 = (r) => (r.media_clock_latency_ms?.n ? r.media_clock_latency_ms.p95 : r.latency_ms.p95);
  const ok = runs.filter((r) => r.sweep === sweep && p95(r) < 500 && 1 - r.delivered_fraction < 0.01);
  return ok.length ? Math.max(...ok.map((r) => r.streams)) : 0;
};
const result = {
  command: `npm run bench -- pipeline (bench/pipeline.mjs)${SOURCE === 'sfu' ? ' with BENCH_PIPELINE_SOURCE=sfu' : ''}${DETECTORS > 1 ? ` BENCH_DETECTORS=${DETECTORS}` : ''}`,
  seconds_per_step: SECONDS,
  fps_per_stream: FPS,
  detector_replicas: DETECTORS,
  gallery_subjects: GALLERY,
  source: SOURCE,
  ...(SOURCE === 'sfu' ? { ingest_mode: INGEST } : {}),
  latency: SOURCE === 'sfu' ? 'latency_ms: tap emit (JPEG on NATS) → WebSocket receipt; media_clock_latency_ms: the frame\'s time on the source media clock (bar code; fastest frame = on time) → WebSocket receipt; frames through the SFU (file ingest, VP8)' : 'bench publish to NATS (captureMs) → WebSocket receipt; the SFU is not in this path',
  frames: Object.fromEntries(Object.entries(SWEEPS).map(([k, v]) => [k, SOURCE === 'sfu' ? `SFU file ingest (${INGEST === 'copy' ? 'VP8 passed through' : 'VP8 encoded again'}) of a VP8 video of ${v.file}, tapped at 5 fps` : `640×480 JPEG of ${v.file}`])),
  runs,
  max_streams_p95_under_500ms_and_under_1pct_dropped: Object.fromEntries(Object.keys(SWEEPS).map((k) => [k, capacity(k)])),
};
// Separate files, so one source's run does not replace the other's.
const base = SOURCE === 'sfu' ? (INGEST === 'copy' ? 'pipeline-sfu' : 'pipeline-sfu-encode') : 'pipeline';
console.log(`wrote ${writeResult(DETECTORS > 1 ? `${base}-${DETECTORS}-detectors` : base, result)}`);
