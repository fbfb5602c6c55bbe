// Small helpers shared by the benchmarks.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS = path.join(ROOT, 'bench', 'results');
/** The built @lookout/service-kit (its /proc readers: proc-stat.ts). */
export const serviceKit = await import(path.join(ROOT, 'packages/service-kit/dist/index.js'));

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (v) => Math.round(v * 100) / 100;
  return { n: s.length, p50: r(quantile(s, 0.5)), p95: r(quantile(s, 0.95)), p99: r(quantile(s, 0.99)), max: r(s.at(-1) ?? NaN) };
}

/** CPU flags that matter to inference speed (what onnxruntime and OpenCV can use), as /proc/cpuinfo names them. */
export const RELEVANT_CPU_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16'];

/** The widest inference instructions a CPU has, for the machine id (a generic model name like "AMD EPYC" covers several generations). */
export function isaLevel(flags) {
  const has = (f) => flags.includes(f);
  if (has('amx_int8')) return 'amx';
  if (has('avx512_vnni')) return 'avx512vnni';
  if (has('avx512f')) return 'avx512';
  if (has('avx2')) return 'avx2';
  return 'base';
}

/**
 * Inference flags a CPU may have beside its widest level, named in the id: two machines
 * sold under one model name ("AMD EPYC") with the same level differed in these (avx_vnni)
 * and ran the models at different speeds, and one's results must not replace the other's.
 */
const EXTRA_FLAGS = { avx512_bf16: 'bf16', avx_vnni: 'avxvnni', amx_bf16: 'amxbf16' };

/** "-bf16-avxvnni": the extra flags of `flags`, in a fixed order. */
export function extraFlags(flags) {
  return Object.entries(EXTRA_FLAGS)
    .filter(([f]) => flags.includes(f))
    .map(([, short]) => `-${short}`)
    .join('');
}

/** A short stable name for a machine class: CPU model, widest instructions and extras, cores, memory ("amd-epyc-avx512vnni-bf16-2c-24g"). */
export function machineId(m) {
  const cpu = m.cpu
    .replace(/\((R|TM|C)\)/gi, '')
    .replace(/\b(CPU|Processor)\b/gi, '')
    .replace(/@.*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${cpu || 'unknown'}${m.flags ? `-${isaLevel(m.flags)}${extraFlags(m.flags)}` : ''}-${m.cores}c-${m.memGiB}g`;
}

export function machine() {
  const cpus = os.cpus();
  // The first processor's /proc/cpuinfo fields by header name (service-kit's proc-stat.ts).
  const info = serviceKit.readCpuInfoFields();
  const flags = new Set((info.get('flags') ?? '').split(/\s+/));
  const m = {
    cpu: info.get('model name') ?? cpus[0]?.model ?? 'unknown',
    flags: RELEVANT_CPU_FLAGS.filter((f) => flags.has(f)),
    // cores: what the host has; usableCpus: what a cgroup quota (a container) leaves this process.
    cores: cpus.length,
    usableCpus: serviceKit.usableCpus().cpus,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    os: `${os.type()} ${os.release()}`,
  };
  return { id: process.env.BENCH_MACHINE_ID || machineId(m), ...m };
}

/** CPU seconds (user+system, at this machine's CLK_TCK) and RSS of a running process, from /proc. */
export async function procStats(pid) {
  const [cpuSeconds, rss] = await Promise.all([serviceKit.processCpuSeconds(pid), serviceKit.processRssBytes(pid)]);
  if (cpuSeconds === undefined || rss === undefined) throw new Error(`process ${pid} has ended`);
  return { cpuSeconds, rssMiB: Math.round(rss / 2 ** 20) };
}

/** Sum of CPU seconds of `pids`, skipping those that have ended. */
export async function cpuSecondsOf(pids) {
  const each = await Promise.all(pids.map((pid) => serviceKit.processCpuSeconds(pid)));
  return each.reduce((sum, s) => sum + (s ?? 0), 0);
}

/**
 * Results live per machine: bench/results/<machine id>/<name>.json, so a run on another
 * machine adds its rows instead of overwriting. A file holds `rounds`, one entry per run:
 * scripts/bench.mjs sets BENCH_ROUND=i/n when it runs a bench n times (BENCH_ROUNDS), and
 * round 1 starts the file afresh; a bench run on its own writes one round.
 */
export function writeResult(name, data) {
  const m = machine();
  const dir = path.join(RESULTS, m.id);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const [round, of] = (process.env.BENCH_ROUND ?? '1/1').split('/').map(Number);
  const previous = round > 1 && fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
  const rounds = [...(previous?.rounds ?? []), { date: new Date().toISOString(), ...data }];
  fs.writeFileSync(file, JSON.stringify({ name, machine: m, rounds_planned: of, rounds }, null, 2) + '\n');
  return file;
}

/** Every machine's results for `name`: [{ machine, rounds }], machines sorted by id. */
export function readResults(name) {
  if (!fs.existsSync(RESULTS)) return [];
  return fs
    .readdirSync(RESULTS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(RESULTS, d.name, `${name}.json`)))
    .map((d) => d.name)
    .sort()
    .map((id) => JSON.parse(fs.readFileSync(path.join(RESULTS, id, `${name}.json`), 'utf8')));
}

/**
 * Every process a benchmark's system runs: this process's nats-server children, each
 * service, and everything below each (the SFU's ffmpegs and mediasoup-workers), found by
 * parent pid in /proc (service-kit's proc-stat readers). Re-read it when processes come and go.
 */
export async function everyProcess(servicePids, { nats = true } = {}) {
  const table = await serviceKit.processTable();
  const natsPids = nats ? serviceKit.childrenIn(table, process.pid, 'nats-server') : [];
  const byRole = { 'nats-server': natsPids };
  for (const [role, pid] of Object.entries(servicePids)) {
    const all = serviceKit.descendantsIn(table, pid);
    byRole[role] = [pid];
    for (const child of all.slice(1)) {
      const comm = table.get(child)?.comm ?? 'other';
      const key = comm.startsWith('mediasoup-work') ? 'mediasoup-worker' : comm === 'ffmpeg' ? 'ffmpeg' : `${role} children`;
      (byRole[key] ??= []).push(child);
    }
  }
  return byRole;
}

/** CPU seconds per role of `everyProcess`, now. */
export async function cpuByRole(byRole) {
  return Object.fromEntries(await Promise.all(Object.entries(byRole).map(async ([role, pids]) => [role, await cpuSecondsOf(pids)])));
}

/** % of one core per role between two cpuByRole readings over `wallSeconds`, and the total. */
export function cpuPercentByRole(before, after, wallSeconds) {
  const out = {};
  let total = 0;
  for (const role of Object.keys(after)) {
    const pct = Math.round((((after[role] ?? 0) - (before[role] ?? 0)) / wallSeconds) * 1000) / 10;
    out[role] = pct;
    total += pct;
  }
  return { ...out, total: Math.round(total * 10) / 10 };
}

/**
 * reid's counters of faces seen and embeddings computed (lookout_reid_faces_total,
 * lookout_reid_embeddings_total), summed over their labels; undefined for one reid does
 * not export (yet).
 */
export function reidCounts(metricsText) {
  const sum = (name) => {
    let found = false;
    let total = 0;
    for (const line of metricsText.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      found = true;
      total += Number(line.split(' ').pop()) || 0;
    }
    return found ? total : undefined;
  };
  return { faces: sum('lookout_reid_faces_total'), embeddings: sum('lookout_reid_embeddings_total') };
}

/** Per second between two reidCounts readings; undefined where a counter is missing. */
export function reidRates(before, after, wallSeconds) {
  const rate = (k) => (before[k] === undefined || after[k] === undefined ? undefined : Math.round(((after[k] - before[k]) / wallSeconds) * 10) / 10);
  return { faces_per_s: rate('faces'), embeddings_per_s: rate('embeddings') };
}

/**
 * Puts `n` subjects with one random unit 512-vector each into reid's gallery bucket (as
 * reid's own enrollment stores them), so reid searches a gallery of that size like the
 * gallery and detector benches do. Every reid replica follows the bucket.
 */
export async function seedGallery(nc, n, dim = 512) {
  const { Kvm } = await import('@nats-io/kv');
  const { kvBuckets } = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
  const kv = await new Kvm(nc).open(kvBuckets.gallery);
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const v = Float32Array.from({ length: dim }, () => Math.random() - 0.5);
    const norm = Math.hypot(...v);
    for (let j = 0; j < dim; j++) v[j] /= norm;
    const vector = Buffer.from(v.buffer).toString('base64');
    const record = { v: 1, subjectId: `bench-${i}`, name: `Bench ${i}`, metadata: {}, createdMs: now, updatedMs: now, embeddings: [{ id: 'e0', vector, createdMs: now }], negatives: [] };
    await kv.put(record.subjectId, JSON.stringify(record));
  }
}

/**
 * The detector's FacePipeline in this process, configured from `env` exactly as the
 * service would be (DetectorConfig), plus a 640×480 JPEG of a fixture file.
 */
export async function inProcessDetector(env = {}) {
  const D = path.join(ROOT, 'services/detector/dist');
  const { loadConfig } = serviceKit;
  const { DetectorConfig } = await import(path.join(D, 'config.js'));
  const { loadModels, defaultSettings } = await import(path.join(D, 'models/models.js'));
  const { FacePipeline } = await import(path.join(D, 'pipeline/face-pipeline.js'));
  const { CadenceTracker } = await import(path.join(D, 'pipeline/cadence.js'));
  const config = loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), ...env });
  const models = await loadModels(config);
  const { poseReuseOf } = await import(path.join(D, 'pipeline/pose-reuse.js'));
  const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide, poseReuseOf(config));
  return { pipeline, settings: defaultSettings(config), close: () => models.close() };
}

/**
 * What reid does per frame, in this process: decode each face's aligned crop, embed it
 * (the service's model and settings) and search a gallery index holding `gallerySize`
 * random vectors plus nothing else. No tracks or rules: those are pure and cheap; what
 * costs is the model and the search.
 */
export async function inProcessReid(gallerySize = 1000, threads = 1, batch = true) {
  const R = path.join(ROOT, 'services/reid/dist');
  const { FaceEmbedder, EMBEDDING_DIM } = await import(path.join(R, 'embedding/embedder.js'));
  const { VectorIndex } = await import('@lookout/vector-index');
  const embedder = await FaceEmbedder.load(path.join(ROOT, 'models/fr_feature.onnx'), threads, batch);
  const index = new VectorIndex({ dim: EMBEDDING_DIM });
  for (let i = 0; i < gallerySize; i++) {
    const v = Float32Array.from({ length: EMBEDDING_DIM }, () => Math.random() - 0.5);
    const n = Math.hypot(...v);
    index.add(`s${i}/e0`, v.map((x) => x / n));
  }
  return {
    async identify(faces) {
      const crops = await Promise.all(faces.filter((f) => f.crop).map((f) => FaceEmbedder.decode(Buffer.from(f.crop.data, 'base64'))));
      return (await embedder.embed(crops)).map((v) => index.search(v, 32)[0]);
    },
    close: () => embedder.close(),
  };
}

/** A fixture image (path under test/fixtures) as a 640×480 JPEG, like a camera frame. */
export async function cameraFrame(fixture) {
  const sharp = (await import('sharp')).default;
  return sharp(fs.readFileSync(path.resolve(ROOT, 'test/fixtures', fixture))).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
}

/**
 * The benches' WebSocket client: the gateway was started with `testkit.TEST_GATEWAY_ENV`,
 * and the test admin key on the URL lets one socket subscribe to every room it measures.
 */
export function gatewayClient(testkit, gateway) {
  return testkit.TestWsClient.connect(`ws://127.0.0.1:${gateway.httpPort}/ws`, { token: testkit.TEST_ADMIN_KEY });
}

// ---- Latency on the source's media clock, for frames through the SFU.
// A video made by stampedVideo carries each frame's index as a bar code in a strip below
// the picture (BITS blocks, white = 1), so each tapped JPEG says which source frame it is:
// its time on the source's media clock. Media-clock latency = receipt − (media time + the
// smallest tap-emit − media-time offset seen on that stream): the fastest frame through
// ingest, mediasoup and the tap counts as on time, and anything slower (a tap or ingest
// falling behind included) counts, like the peer's latency in bench/baseline_aiortc.py.
const VIDEO_FPS = 15;
const BITS = 9;
const STRIP = { top: 2, height: 20, block: 40 };

/**
 * Writes `out`: `frames` frames (≤ 512) of ffmpeg input `inputArgs` at 640×456 below the
 * bar-code strip (640×480 in all), 15 fps, VP8 with a keyframe every second — like a
 * WebRTC camera's VP8, so an SFU ingest can pass it through (docs/sfu.md) instead of
 * encoding it again.
 */
export function stampedVideo(out, inputArgs, frames) {
  if (frames > 2 ** BITS) throw new Error(`stampedVideo: at most ${2 ** BITS} frames`);
  const bits = Array.from({ length: BITS }, (_, i) => `drawbox=x=${i * STRIP.block + 4}:y=${STRIP.top}:w=${STRIP.block - 8}:h=${STRIP.height}:color=white:t=fill:enable='eq(mod(floor(n/${2 ** i}),2),1)'`);
  const vf = [`fps=${VIDEO_FPS}`, 'scale=640:456', 'pad=640:480:0:24:black', ...bits, 'format=yuv420p'].join(',');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...inputArgs, '-frames:v', String(frames), '-vf', vf, '-c:v', 'libvpx', '-b:v', '1M', '-g', String(VIDEO_FPS), '-deadline', 'realtime', out]);
  return out;
}

/**
 * The source frame index a tapped 640×480 JPEG of a stampedVideo carries. The strip is at
 * the top so only the first rows are decoded (a sequential read stops there): 1.3 ms of
 * CPU a frame here, against 4.1 for the quarter-size decode of the whole picture this
 * replaced, which at 40 frames/s was 16 % of a core taken from the cores being measured.
 */
let barCodeSharp;
async function sharpForBarCodes() {
  if (!barCodeSharp) {
    barCodeSharp = (await import('sharp')).default;
    // One libvips thread per image: its default pool (a thread per core, started per image)
    // cost this process ~15% of a core at 40 frames/s, on the cores being measured.
    barCodeSharp.concurrency(1);
    barCodeSharp.cache(false);
  }
  return barCodeSharp;
}

export async function frameIndex(jpeg) {
  const sharp = await sharpForBarCodes();
  const rows = 16;
  const row = STRIP.top + STRIP.height / 2 - 2;
  const { data, info } = await sharp(jpeg, { sequentialRead: true }).extract({ left: 0, top: 0, width: 640, height: rows }).raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < BITS; i++) if (data[(row * info.width + i * STRIP.block + STRIP.block / 2) * info.channels] > 128) n |= 1 << i;
  return n;
}

/** Per stream of a looped stampedVideo of `frames` frames: each tapped frame's media time (loops unwrapped) and the smallest tap-emit − media offset. */
export function mediaClock(frames) {
  const streams = new Map();
  return {
    async frame(stream, captureMs, jpeg) {
      const st = streams.get(stream) ?? { last: -1, loops: 0, offset: Infinity, media: new Map() };
      streams.set(stream, st);
      const k = await frameIndex(jpeg);
      if (st.last >= 0 && k < st.last - frames / 2) st.loops++;
      st.last = k;
      const mediaMs = ((st.loops * frames + k) * 1000) / VIDEO_FPS;
      st.offset = Math.min(st.offset, captureMs - mediaMs);
      st.media.set(captureMs, mediaMs);
    },
    /** ms from when the frame was due on the source's clock to `receivedMs`; undefined if its JPEG was not read. */
    latency(stream, captureMs, receivedMs) {
      const st = streams.get(stream);
      const mediaMs = st?.media.get(captureMs);
      return mediaMs === undefined ? undefined : receivedMs - (mediaMs + st.offset);
    },
  };
}
