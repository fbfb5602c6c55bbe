#!/usr/bin/env node
// Runs every benchmark (each in its own process, so one's threads do not skew another) and
// rewrites docs/performance.md from bench/results/*.json.
//   npm run bench                 all
//   npm run bench -- detector     only some
// Knobs: BENCH_ROUNDS, BENCH_SECONDS, BENCH_STREAMS (e.g. "1,2,4").
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['detector', 'pipeline', 'overhead', 'media', 'baseline', 'gallery'];
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !ALL.includes(a));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const wanted = asked;

for (const name of wanted.length ? wanted : ALL) {
  console.log(`\n== bench: ${name}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bench', `${name}.mjs`)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const read = (name) => {
  const f = path.join(root, 'bench', 'results', `${name}.json`);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
};
const detector = read('detector');
const pipeline = read('pipeline');
const media = read('media');
const overhead = read('overhead');
const baseline = read('baseline');
const gallery = read('gallery');
const m = (detector ?? pipeline)?.machine;
const row = (cells) => `| ${cells.join(' | ')} |`;

let md = `# Performance

Measured by \`npm run bench\`; raw results in \`bench/results/*.json\`. Timing is never
asserted in tests. Re-run on your machine to compare.

Machine: ${m ? `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, ${m.os}` : 'n/a'}.
`;
if (detector) {
  const stageNames = ['decode', 'detect', 'landmarks', 'pose', 'eyes', 'crops', 'expression', 'liveness', 'text', 'embed'];
  const cell = (v) => (v ? `${v.p50}` : '–');
  md += `
## Detector, one replica in-process (${detector.date.slice(0, 10)})

\`${detector.command}\`: ${detector.seconds_per_run} s per row, 640×480 JPEG frames fed back to back as one
stream. Analyzers: ${detector.analyzers}. Frames/s is the whole pipeline per frame; stage
columns are p50 ms per run of that stage (all faces of the frame). "embed" is reid's
embedding model plus a gallery search (1,000 subjects) on the frame's aligned crops, timed
separately (it runs in the reid service, so it is not in frames/s).

${row(['frame', 'faces', 'threads', 'per-face models', 'frames/s', 'frame p50', 'frame p95', ...stageNames])}
${row(Array(6 + stageNames.length + 1).fill('---'))}
${detector.runs
  .map((r) => row([r.frame.replace('_', ' '), r.faces, r.threads, r.batched ? 'batched' : 'one at a time', `**${r.fps}**`, r.frame_ms.p50, r.frame_ms.p95, ...stageNames.map((n) => cell(r.stage_ms[n]))]))
  .join('\n')}

Target (issue 4): ≥ 40 frames/s with one face and all per-frame analyzers on, expression at 1/s.
`;
}
if (pipeline) {
  const table = (sweep) =>
    pipeline.runs
      .filter((r) => r.sweep === sweep)
      .map((r) =>
        row([r.streams, r.published, `${(r.delivered_fraction * 100).toFixed(1)}%`, r.processed_fps, r.latency_ms.p50, r.latency_ms.p95, r.latency_ms.p99, `${r.dropped.stale} / ${r.dropped.superseded}`, `${r.services.detector.cpuPercent}%`, `${r.services.reid.cpuPercent}%`, `${r.services.gateway.cpuPercent}%`, r.services.detector.rssMiB]),
      )
      .join('\n');
  const header = `${row(['streams', 'published', 'delivered', 'processed fps', 'p50', 'p95', 'p99', 'dropped (stale / superseded)', 'detector CPU', 'reid CPU', 'gateway CPU', 'detector RSS MiB'])}\n${row(Array(12).fill('---'))}`;
  md += `
## Pipeline (${pipeline.date.slice(0, 10)})

\`${pipeline.command}\`: N streams × ${pipeline.fps_per_stream} fps for ${pipeline.seconds_per_step} s each, real
nats-server → detector (1 replica, 1 thread, every analyzer on at its default cadence) → reid →
gateway → one WebSocket client. Latency = capture time → WebSocket receipt (ms). CPU in % of
one core. The publisher and the WebSocket client share the same 2 cores.

### One face per frame (${pipeline.frames.one_face})

${header}
${table('one_face')}

Most streams with p95 < 500 ms and < 1% dropped: **${pipeline.max_streams_p95_under_500ms_and_under_1pct_dropped.one_face}**.

### Four faces per frame (${pipeline.frames.four_faces})

${header}
${table('four_faces')}

Most streams with p95 < 500 ms and < 1% dropped: **${pipeline.max_streams_p95_under_500ms_and_under_1pct_dropped.four_faces}**.

Past the knee the detector sheds load instead of queueing: a stream's waiting frame is
replaced by its newer one (\`superseded\`) and frames too old when their turn comes are
dropped (\`stale\`), so latency stays bounded. The slow analyzers dominate with several
faces: expression costs ~30 ms per face once a second per stream, liveness ~5 ms per face,
text ~45 ms per frame every 5 s; a frame that carries one of them is that much later.
Scale out with detector replicas (queue group) or lower those cadences per room.
`;
}
if (overhead) {
  md += `
## Pipeline overhead: services vs a bare loop (${overhead.date.slice(0, 10)})

\`${overhead.command}\`: ${overhead.frame}; ${overhead.seconds_per_step} s per row. The bare loop runs the
same FacePipeline in one process (same models, cadences and one-waiting-frame-per-stream
queue) followed by reid's embedding model and a gallery search (1,000 subjects); the
services path is NATS → detector → reid (embedding, search, tracks, rules, stream state in
KV) → gateway → WebSocket client.
"latency" offers 5 fps per stream; "throughput" offers 20 fps per stream, more than either can take.

${row(['streams', 'mode', 'offered fps', 'bare fps', 'services fps', 'throughput ratio', 'bare p50 / p95 ms', 'services p50 / p95 ms', 'added at p50 ms'])}
${row(Array(9).fill('---'))}
${overhead.rows
  .map((r) => row([r.streams, r.mode, r.offered_fps, r.bare.fps, r.services.fps, r.throughput_ratio, `${r.bare.latency_ms.p50} / ${r.bare.latency_ms.p95}`, `${r.services.latency_ms.p50} / ${r.services.latency_ms.p95}`, r.added_p50_ms]))
  .join('\n')}

Aim: the distributed pipeline adds < 10 ms at p50 and keeps ≥ 90% of the bare loop's throughput.
`;
}
if (media) {
  const fileRuns = media.runs.filter((r) => (r.source ?? 'file') === 'file');
  const chromiumRuns = media.runs.filter((r) => r.source === 'chromium');
  const pm = (s) => (s && s.n > 0 ? `${s.p50} / ${s.max}` : '—');
  md += `
## Media path: SFU frame tap (${media.date.slice(0, 10)})

\`${media.command}\`: ${media.seconds_per_step} s per row. CPU in % of one core.
${fileRuns.length ? `
**Files**: ${media.source}. The first frame is counted from the ingest request (ffmpeg start, VP8 encode, keyframe, tap start).

${row(['streams', 'first frame p50 ms', 'first frame max ms', 'frames/s per stream (p50)', 'tap ffmpeg CPU / stream', 'ingest ffmpeg CPU / stream'])}
${row(Array(6).fill('---'))}
${fileRuns
  .map((r) => row([r.streams, r.first_frame_ms.p50, r.first_frame_ms.max, r.frames_per_second_per_stream.p50, `${r.tap_ffmpeg_cpu_percent_per_stream}%`, `${r.ingest_ffmpeg_cpu_percent_per_stream}%`]))
  .join('\n')}
` : ''}${chromiumRuns.length ? `
**Browsers**: ${media.chromium_source}. Times are counted from the page's \`publish()\` call
(mediasoup-client signaling over NATS, ICE/DTLS on loopback, keyframe, tap start); "connected" is when the send transport connected.

${row(['streams', 'connected p50 / max ms', 'first frame p50 / max ms', 'first 640×480 frame p50 / max ms', `frames per stream in ${media.seconds_per_step} s (min / p50)`, 'frames/s per stream (p50)', '640×480 frames', 'tap ffmpeg CPU / stream', 'Chromium CPU total (per stream)'])}
${row(Array(9).fill('---'))}
${chromiumRuns
  .map((r) => row([r.streams, pm(r.connected_ms), pm(r.first_frame_ms), pm(r.first_640x480_frame_ms), `${r.frames_per_stream_min ?? '—'} / ${r.frames_per_stream.p50}`, r.frames_per_second_per_stream.p50, `${r.frames_640x480_percent}%`, `${r.tap_ffmpeg_cpu_percent_per_stream}%`, `${r.chromium_cpu_percent}% (${r.chromium_cpu_percent_per_stream}%)`]))
  .join('\n')}

A WebRTC webcam costs the SFU only the tap (no ingest encode); the last column is the cost of the
fake publisher itself (every Chromium process: y4m playback, VP8 encode, WebRTC), which a real deployment
pays on the user's machine, not on the SFU's.
` : `
A WebRTC webcam costs only the tap (no ingest encode). In the Chromium test the first 640×480
frame reached NATS ≈ 0.9 s after the page started publishing.
`}`;
}
if (baseline) {
  const f = (r) => `${(r.frames_per_second_per_stream.reduce((a, b) => a + b, 0) / r.frames_per_second_per_stream.length).toFixed(2)}`;
  md += `
## Side by side with the usual alternative (${baseline.date.slice(0, 10)})

\`${baseline.command}\`: ${baseline.what}; ${baseline.seconds_per_step} s per row, measured in the same run.

- **Baseline** (\`bench/baseline_aiortc.py\`): what people build today — one Python process
  with Debian's \`python3-aiortc\` 1.4 and \`python3-opencv\` 4.6. It receives the streams over
  WebRTC (from aiortc sender peers in the same process playing the video, over loopback),
  decodes, keeps 5 fps and runs the same detector ONNX through \`cv2.dnn\`. Latency is from a
  decoded frame to its boxes, inside the process; CPU includes its senders' VP8 encode.
- **Lookout**: the same video ingested through the SFU (ffmpeg VP8 encode → mediasoup → tap
  ffmpeg → JPEG) → NATS → detector (detection only) → reid → gateway → a WebSocket client.
  Latency is from the tap's JPEG to WebSocket receipt; CPU is every process (SFU, its ffmpegs
  and mediasoup worker, detector, reid, gateway), including the ingest's VP8 encode.

${row(['streams', 'baseline fps/stream', 'Lookout fps/stream', 'baseline p50 / p95 ms', 'Lookout p50 / p95 ms', 'baseline CPU', 'Lookout CPU', 'CPU ratio (Lookout / baseline)'])}
${row(Array(8).fill('---'))}
${baseline.rows
  .map((r) => row([r.streams, f(r.baseline), f(r.lookout), `${r.baseline.latency_ms.p50} / ${r.baseline.latency_ms.p95}`, `${r.lookout.latency_ms.p50} / ${r.lookout.latency_ms.p95}`, `${r.baseline.cpu_percent}%`, `${r.lookout.cpu_percent}%`, (r.lookout.cpu_percent / r.baseline.cpu_percent).toFixed(2)]))
  .join('\n')}

**Where we lose:** on one machine, for face detection alone, the single process needs less
CPU as streams are added (the ratio column; runs vary by ±30% on this shared 2-core
machine) and is much faster from frame to boxes (no JPEG hand-off, no process hops, no
delivery to a client in its number), and at 6 streams it still keeps 5 fps where Lookout,
sharing the same 2 cores between the SFU's ffmpegs and the services, starts to shed. Lookout pays for re-encoding frames
as JPEG, decoding them again in the detector, and moving them through NATS, reid and the
gateway. **What that buys:** detectors scale out across cores and machines by adding
replicas (the baseline is one event loop; its detection blocks its WebRTC handling),
load is shed instead of queued, a crash takes down one service rather than every stream,
and the dashboards, alerts and reports hang off the same stream of results.
`;
}
if (gallery) {
  const levels = gallery.levels.map((s) => `s=${s}`).join(' / ');
  const perLevel = (r) => gallery.levels.map((s) => r[s]).join(' / ');
  const sweep = gallery.rerank_sweep;
  const d = gallery.defaults;
  md += `
## Gallery search (${gallery.date.slice(0, 10)})

\`${gallery.command}\`: \`@lookout/vector-index\` (packages/vector-index, reid's gallery search) on random unit
${gallery.dim}-dim vectors, the worst case for any index that relies on clusters. Top-${gallery.k}, latency
over ${gallery.queries_per_level} queries per level s; each query is a random gallery vector mixed with noise to
cosine s. Recall@1: the index's top hit is exact brute force's top hit (ground truth from
onnxruntime); recall@10: overlap with the exact top 10. Memory: the index's own arrays / process
RSS growth while building (keys included).

${row(['size', 'mode', 'build s', 'memory MiB', 'p50 ms', 'p95 ms', 'p99 ms', `recall@1 (${levels})`, `recall@10 (${levels})`, 'exact p50 ms (JS / onnxruntime)'])}
${row(Array(10).fill('---'))}
${gallery.sizes
  .map((r) => row([r.size.toLocaleString('en'), r.mode, r.build_s, `${r.index_MiB} / ${r.rss_delta_MiB}`, `**${r.latency_ms.p50}**`, r.latency_ms.p95, r.latency_ms.p99, perLevel(r.recall_at_1), perLevel(r.recall_at_10), `${r.exact_js_ms.p50} / ${r.exact_onnxruntime_ms.p50}`]))
  .join('\n')}

Up to ${d.exactMaxSize.toLocaleString('en')} vectors the index scans every float32 vector (exact). Above that it scans a
${d.sketchBits}-bit sketch of every vector (signs of a fixed random rotation, whose Hamming distance tracks the angle)
with a WebAssembly popcount loop and re-scores the ${d.rerank.toLocaleString('en')} nearest in float32, so returned scores are
exact and nothing is trained: enrolment and deletion stay microseconds at any size. What it
misses are weak neighbours (the rest of an exact top 10 here is random vectors at cosine ≈ 0.2,
far below the 0.45 acceptance threshold); re-ranking more buys them back at ~1 µs per candidate:
${sweep ? `
${row(['size', 'rerank', 'p50 ms', 'p99 ms', `recall@1 (${levels})`, `recall@10 (${levels})`])}
${row(Array(6).fill('---'))}
${sweep.rows.map((r) => row([sweep.size.toLocaleString('en'), r.rerank, r.latency_ms.p50, r.latency_ms.p99, perLevel(r.recall_at_1), perLevel(r.recall_at_10)])).join('\n')}
` : ''}
Target (reid issue): < 20 ms for one query at 1M on this machine.
`;
}
fs.writeFileSync(path.join(root, 'docs', 'performance.md'), md);
console.log('\nwrote docs/performance.md');
