// One detector replica in-process (the same FacePipeline the service runs, no NATS):
// frames/s and per-analyzer ms on 640×480 frames with 1 and 4 faces, with 1 and 2
// onnxruntime threads, per-face models batched and one face at a time. Frames are fed
// back to back as one stream with real capture times, so the slow analyzers keep their
// cadences (expression and liveness 1/s, text 1/5 s) as in production. The "embed" stage
// is reid's embedding model on the frame's aligned crops (same threads and batching),
// timed on its own after the loop: it runs in the reid service, not in the detector.
// Small-face rows (issue 16): a 1920×1080 wide scene of 39 faces of 20–45 px
// (@lookout/testkit buildWideScene) with face detection only, per DETECTION_MODE, so
// `detect` (and `tiles`, its tiled part) is the cost of each mode; and the one-face
// 640×480 frame with DETECTION_MODE=single beside the default (auto), which must not differ.
import path from 'node:path';
import { cameraFrame, inProcessDetector, inProcessReid, ROOT, summarize, writeResult } from './lib.mjs';

const { buildWideScene } = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const frames = { one_face: await cameraFrame('faces/identities/barack_obama/fr_obama1.jpg'), four_faces: await cameraFrame('faces/group/fa_bbt1.jpg') };

async function run(threads, batch, name, jpeg, env = {}) {
  const { pipeline, settings, close } = await inProcessDetector({ INFERENCE_THREADS: String(threads), BATCH_FACE_MODELS: String(batch), ...env });
  for (let i = 0; i < 5; i++) await pipeline.analyze(jpeg, settings);
  const stages = {};
  const totals = [];
  let n = 0;
  let faces = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const t = performance.now();
    const r = await pipeline.analyze(jpeg, settings, { key: 'bench', captureMs: Date.now() });
    totals.push(performance.now() - t);
    for (const [stage, ms] of Object.entries(r.timings)) (stages[stage] ??= []).push(ms);
    faces = r.faces.length;
    n++;
  }
  const fps = Math.round((n / ((performance.now() - t0) / 1000)) * 10) / 10;
  if (!env.ANALYZERS) stages.embed = await embedTimes(threads, batch, (await pipeline.analyze(jpeg, settings)).faces);
  await close();
  return { frame: name, faces, threads, batched: batch, ...(env.DETECTION_MODE ? { detection: env.DETECTION_MODE } : {}), ...(env.ANALYZERS ? { analyzers: env.ANALYZERS } : {}), fps, frame_ms: summarize(totals), stage_ms: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, { ...summarize(v), runs: v.length }])) };
}

/** Embedding (+ gallery search) of all faces of a frame, as reid does it, 50 times. */
async function embedTimes(threads, batch, faces) {
  const reid = await inProcessReid(1000, threads, batch);
  for (let i = 0; i < 5; i++) await reid.identify(faces);
  const times = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await reid.identify(faces);
    times.push(performance.now() - t);
  }
  await reid.close();
  return times;
}

const runs = [];
for (const threads of [1, 2]) {
  for (const [name, jpeg] of Object.entries(frames)) {
    for (const batch of name === 'four_faces' ? [true, false] : [true]) {
      const r = await run(threads, batch, name, jpeg);
      console.log(JSON.stringify({ frame: r.frame, faces: r.faces, threads, batched: batch, fps: r.fps, p50: r.frame_ms.p50 }));
      runs.push(r);
    }
  }
}
// Detection modes: the webcam frame (auto must cost what single does), then the wide scene.
const wide = (await buildWideScene(1)).jpeg;
const modeRows = [
  ['one_face', frames.one_face, { DETECTION_MODE: 'single' }],
  ['one_face', frames.one_face, { DETECTION_MODE: 'auto' }],
  ['wide_scene_1920x1080', wide, { DETECTION_MODE: 'single', ANALYZERS: 'none' }],
  ['wide_scene_1920x1080', wide, { DETECTION_MODE: 'tiled', ANALYZERS: 'none' }],
  ['wide_scene_1920x1080', wide, { DETECTION_MODE: 'auto', ANALYZERS: 'none' }],
];
for (const [name, jpeg, env] of modeRows) {
  const r = await run(1, true, name, jpeg, env);
  console.log(JSON.stringify({ frame: r.frame, faces: r.faces, detection: env.DETECTION_MODE, fps: r.fps, p50: r.frame_ms.p50, detect_p50: r.stage_ms.detect?.p50, tiles_p50: r.stage_ms.tiles?.p50 }));
  runs.push(r);
}
const result = {
  command: 'npm run bench -- detector (bench/detector.mjs)',
  seconds_per_run: SECONDS,
  analyzers: 'detect, landmarks, pose, eyes, aligned crops every frame; expression and liveness 1/s; text 1/5 s',
  runs,
};
console.log(`wrote ${writeResult('detector', result)}`);
