// Where an analysed frame's CPU goes: CPU milliseconds per analysed frame in the detector,
// reid and nats-server, at a steady load below the knee (BENCH_COST_STREAMS streams × 5 fps
// of a 640×480 JPEG published to NATS; default 4), once per analyzer set: the default set,
// detection only (ANALYZERS=none), and the default set less one analyzer at a time. CPU
// time, not wall time: what a frame costs whether or not it waited for a core, so the
// rows add up to the capacity a machine has. The per-stage columns of the detector bench
// are wall time on an idle replica; these are what sizing and the 8-stream target
// (issue 15) need: the cost to cut, and where it sits.
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { cameraFrame, cpuByRole, everyProcess, reidCounts, reidRates, ROOT, seedGallery, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { FramePublisher, startNatsServer, startService, stopAllProcesses } = testkit;
// Streams per frame kind: below the knee on 2 cores (pipeline bench), so no frame is shed
// and every analyzer runs at its cadence (a shed frame would skew the slow analyzers' share).
const [STREAMS_ONE, STREAMS_FOUR] = (process.env.BENCH_COST_STREAMS ?? '4,2').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_MS = 4000;
const FPS = 5;
const DEFAULT = ['landmarks', 'pose', 'eyes', 'expression', 'liveness', 'text', 'crops'];
// Each row: the analyzers on. Crops off also means no embedding in reid (nothing to embed).
const SETS = [
  { name: 'default', analyzers: DEFAULT },
  { name: 'detection only', analyzers: [] },
  ...['pose', 'expression', 'liveness', 'text', 'crops'].map((off) => ({ name: `default without ${off}`, analyzers: DEFAULT.filter((a) => a !== off) })),
];
const FRAMES = {
  one_face: { fixture: 'faces/identities/barack_obama/fr_obama1.jpg', streams: STREAMS_ONE },
  four_faces: { fixture: 'faces/group/fa_bbt1.jpg', streams: STREAMS_FOUR },
};

const nats = await startNatsServer();
const runs = [];
try {
  const reid = await startService('reid', nats.url, {});
  const nc = await connect({ servers: nats.url });
  await seedGallery(nc, 1000);
  const publisher = new FramePublisher(nc);
  for (const [frameName, { fixture, streams: STREAMS }] of Object.entries(FRAMES)) {
    const jpeg = await cameraFrame(fixture);
    for (const set of SETS) {
      const detector = await startService('detector', nats.url, { ANALYZERS: set.analyzers.length ? set.analyzers.join(',') : 'none' });
      const room = `cost-${runs.length}`;
      let analysed = 0;
      const sub = nc.subscribe(`analysis.${room}.>`, { callback: () => analysed++ });
      // The detector's own stage timings (wall ms): how often each stage ran, and how long.
      let stages = {};
      let detected = 0;
      const facesSub = nc.subscribe(`faces.${room}.>`, {
        callback: (_e, m) => {
          detected++;
          for (const [stage, ms] of Object.entries(JSON.parse(new TextDecoder().decode(m.data)).timings ?? {})) (stages[stage] ??= []).push(ms);
        },
      });
      const timer = setInterval(() => {
        for (let s = 0; s < STREAMS; s++) publisher.publish(room, `s${s}`, jpeg);
      }, 1000 / FPS);
      await new Promise((r) => setTimeout(r, WARMUP_MS));
      const procs = await everyProcess({ detector: detector.child.pid, reid: reid.child.pid });
      const cpu0 = await cpuByRole(procs);
      const reid0 = reidCounts((await reid.get('/metrics')).body);
      const n0 = analysed;
      stages = {};
      detected = 0;
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const cpu1 = await cpuByRole(procs);
      const n = analysed - n0;
      const wall = (Date.now() - t0) / 1000;
      const reidRate = reidRates(reid0, reidCounts((await reid.get('/metrics')).body), wall);
      clearInterval(timer);
      sub.unsubscribe();
      facesSub.unsubscribe();
      const msPerFrame = (role) => Math.round((((cpu1[role] ?? 0) - (cpu0[role] ?? 0)) * 1000 * 10) / Math.max(1, n)) / 10;
      const run = {
        frame: frameName,
        set: set.name,
        analyzers: set.analyzers,
        streams: STREAMS,
        published_fps: STREAMS * FPS,
        analysed_fps: Math.round((n / wall) * 10) / 10,
        cpu_ms_per_frame: { detector: msPerFrame('detector'), reid: msPerFrame('reid'), 'nats-server': msPerFrame('nats-server') },
        stages: Object.fromEntries(Object.entries(stages).filter(([k]) => k !== 'queue').map(([k, v]) => [k, { share: Math.round((v.length / Math.max(1, detected)) * 100) / 100, wall_ms: Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 10) / 10 }])),
        embeddings_per_frame: reidRate.embeddings_per_s === undefined ? undefined : Math.round((reidRate.embeddings_per_s / Math.max(0.1, n / wall)) * 100) / 100,
      };
      run.cpu_ms_per_frame.total = Math.round((run.cpu_ms_per_frame.detector + run.cpu_ms_per_frame.reid + run.cpu_ms_per_frame['nats-server']) * 10) / 10;
      console.log(JSON.stringify(run));
      runs.push(run);
      await detector.stop();
    }
  }
  await nc.close();
} finally {
  await stopAllProcesses();
  await nats.stop();
}
console.log(`results: ${writeResult('frame-cost', { seconds: SECONDS, fps: FPS, runs })}`);
