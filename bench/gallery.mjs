// Gallery search: @lookout/vector-index's VectorIndex (what reid searches its gallery with)
// on synthetic 512-dim embeddings (random unit vectors: no cluster structure, the worst case
// for any index that relies on one).
// Per size: build time, memory, top-10 latency, recall against exact brute force for
// near-duplicate queries (a gallery vector mixed with noise to cosine s), and exact search
// latency for comparison (the index's own float32 scan in JS, and onnxruntime's MatMul).
// Ground truth comes from onnxruntime (batched Gemm), not from the code under test.
//   node bench/gallery.mjs     (after `npx tsc -b packages/vector-index`)
// Knobs: BENCH_GALLERY_SIZES (default 10000,100000,1000000), BENCH_GALLERY_QUERIES (per s).
import v8 from 'node:v8';
import vm from 'node:vm';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { VectorIndex } from '@lookout/vector-index';
import { summarize, writeResult } from './lib.mjs';

const SIZES = (process.env.BENCH_GALLERY_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const PER_LEVEL = Number(process.env.BENCH_GALLERY_QUERIES ?? 200);
const DIM = 512;
const K = 10;
const LEVELS = [0.5, 0.6, 0.7, 0.8];
const RERANK_SWEEP = [250, 1000, 4000];
const BLOCK = 65536;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// ---------------------------------------------------------------- onnxruntime helpers
const P = onnxProto.onnx;
const ORT_OPTIONS = { intraOpNumThreads: 2, interOpNumThreads: 1, logSeverityLevel: 3, extra: { session: { intra_op_thread_spinning: '0', inter_op_thread_spinning: '0' } } };
const dims = (shape) => ({ dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) });
const value = (name, shape) => P.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: dims(shape) } } });
const attr = (name, v) => (Array.isArray(v) ? { name, type: 7, ints: v } : Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v });
const node = (opType, input, output, attrs = {}) => P.NodeProto.create({ opType, input, output, attribute: Object.entries(attrs).map(([k, v]) => P.AttributeProto.create(attr(k, v))) });
function session(nodes, inputs, outputs) {
  const graph = P.GraphProto.create({ name: 'bench', node: nodes, input: inputs, output: outputs });
  return ort.InferenceSession.create(P.ModelProto.encode(P.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish(), ORT_OPTIONS);
}
const generator = await session([node('RandomNormal', [], ['r'], { shape: [BLOCK, DIM], seed: 20.5, dtype: 1 }), node('LpNormalization', ['r'], ['y'], { axis: 1, p: 2 })], [], [value('y', [BLOCK, DIM])]);
const gemm = await session([node('Gemm', ['q', 'g'], ['y'], { transB: 1 })], [value('q', ['Q', DIM]), value('g', ['N', DIM])], [value('y', ['Q', 'N'])]);
const matmul = await session([node('MatMul', ['g', 'q'], ['y'])], [value('g', ['N', DIM]), value('q', [DIM, 1])], [value('y', ['N', 1])]);

/** n random unit vectors (Gaussian, normalised), back to back. */
async function randomUnitVectors(n) {
  const out = new Float32Array(n * DIM);
  for (let at = 0; at < n; at += BLOCK) {
    const { y } = await generator.run({});
    out.set(y.data.subarray(0, Math.min(BLOCK, n - at) * DIM), at * DIM);
  }
  return out;
}

// ---------------------------------------------------------------- exact ground truth
/** Keeps the k best (index, score) per query; k is small, so insertion is fine. */
function keepBest(best, index, score) {
  if (best.length === K && score <= best[K - 1].score) return;
  let i = best.length < K ? best.length : K - 1;
  while (i > 0 && best[i - 1].score < score) {
    best[i] = best[i - 1];
    i--;
  }
  best[i] = { index, score };
}

/** Exact top-K gallery indices of every query, by onnxruntime Gemm over gallery blocks. */
async function groundTruth(gallery, n, queries) {
  const nq = queries.length;
  const q = new Float32Array(nq * DIM);
  queries.forEach((x, i) => q.set(x.vector, i * DIM));
  const best = queries.map(() => []);
  for (let at = 0; at < n; at += BLOCK) {
    const rows = Math.min(BLOCK, n - at);
    const g = new ort.Tensor('float32', gallery.subarray(at * DIM, (at + rows) * DIM), [rows, DIM]);
    const y = (await gemm.run({ q: new ort.Tensor('float32', q, [nq, DIM]), g })).y.data;
    for (let j = 0; j < nq; j++) {
      const b = best[j];
      for (let r = 0, o = j * rows; r < rows; r++) if (b.length < K || y[o + r] > b[b.length - 1].score) keepBest(b, at + r, y[o + r]);
    }
  }
  return best.map((b) => b.map((h) => h.index));
}

/** Exact search of one query the fastest way measured here: onnxruntime MatMul, then top-K in JS. */
async function ortExact(gallery, n, query) {
  const y = (await matmul.run({ g: new ort.Tensor('float32', gallery.subarray(0, n * DIM), [n, DIM]), q: new ort.Tensor('float32', query, [DIM, 1]) })).y.data;
  const best = [];
  for (let i = 0; i < n; i++) if (best.length < K || y[i] > best[K - 1].score) keepBest(best, i, y[i]);
  return best;
}

// ---------------------------------------------------------------- queries
let seed = 7;
function uniform() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
}
const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

/** s·v + √(1−s²)·u with u a random unit vector orthogonal to v, so cos(q, v) = s exactly. */
function nearDuplicate(v, s) {
  const u = Float64Array.from({ length: DIM }, gaussian);
  let along = 0;
  for (let j = 0; j < DIM; j++) along += u[j] * v[j];
  let norm = 0;
  for (let j = 0; j < DIM; j++) norm += (u[j] -= along * v[j]) ** 2;
  const c = Math.sqrt(1 - s * s) / Math.sqrt(norm);
  return Float32Array.from({ length: DIM }, (_, j) => s * v[j] + c * u[j]);
}

function makeQueries(gallery, n) {
  return LEVELS.flatMap((s) => Array.from({ length: PER_LEVEL }, () => {
    const source = Math.floor(uniform() * n);
    return { s, source, vector: nearDuplicate(gallery.subarray(source * DIM, (source + 1) * DIM), s) };
  }));
}

// ---------------------------------------------------------------- measuring the index
const keyOf = (i) => `subject-${(i >> 2).toString(36).padStart(6, '0')}/${i}`;
const indexOf = (key) => Number(key.slice(key.indexOf('/') + 1));
const round = (v, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

/** Latency of `search` over every query, and recall@1 / recall@10 per level against `truth`. */
function measure(queries, truth, search) {
  for (let i = 0; i < 20; i++) search(queries[i % queries.length].vector);
  const times = [];
  const at1 = {};
  const at10 = {};
  queries.forEach((q, i) => {
    const t = performance.now();
    const hits = search(q.vector).map((h) => indexOf(h.key));
    times.push(performance.now() - t);
    const exact = truth[i];
    at1[q.s] = (at1[q.s] ?? 0) + (hits[0] === exact[0] ? 1 : 0);
    at10[q.s] = (at10[q.s] ?? 0) + hits.filter((h) => exact.includes(h)).length / exact.length;
  });
  const rate = (m) => Object.fromEntries(LEVELS.map((s) => [s, round(m[s] / PER_LEVEL)]));
  return { latency_ms: summarize(times), recall_at_1: rate(at1), recall_at_10: rate(at10) };
}

/** Collects garbage, including native memory that finalizers free after a turn. */
async function settle() {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
}

async function build(gallery, n) {
  await settle();
  const rss0 = process.memoryUsage().rss;
  const index = new VectorIndex({ dim: DIM });
  const t = performance.now();
  for (let i = 0; i < n; i++) index.add(keyOf(i), gallery.subarray(i * DIM, (i + 1) * DIM));
  const ms = performance.now() - t;
  await settle();
  const rssDeltaMiB = Math.round((process.memoryUsage().rss - rss0) / 2 ** 20);
  return { index, ms, rssDeltaMiB };
}

/** Exact search latency, each way in its own loop so neither evicts the other's data from cache. */
async function timeExact(gallery, n, index, queries) {
  const some = queries.slice(0, n <= 100_000 ? 50 : 10);
  const js = [];
  for (const q of some) {
    const t = performance.now();
    index.searchExact(q.vector, K);
    js.push(performance.now() - t);
  }
  const onnx = [];
  for (const q of some) {
    const t = performance.now();
    await ortExact(gallery, n, q.vector);
    onnx.push(performance.now() - t);
  }
  return { exact_js_ms: summarize(js), exact_onnxruntime_ms: summarize(onnx) };
}

function sweep(index, queries, truth) {
  return RERANK_SWEEP.map((rerank) => ({ rerank, ...measure(queries, truth, (v) => index.searchSketch(v, K, rerank)) }));
}

// ---------------------------------------------------------------- run
const biggest = Math.max(...SIZES);
let t0 = performance.now();
const gallery = await randomUnitVectors(biggest);
console.log(`generated ${biggest} random unit vectors in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const rows = [];
let rerankSweep;
for (const n of [...SIZES].sort((a, b) => a - b)) {
  const queries = makeQueries(gallery, n);
  t0 = performance.now();
  const truth = await groundTruth(gallery, n, queries);
  const truthS = (performance.now() - t0) / 1000;
  let built = await build(gallery, n);
  const stats = built.index.stats();
  const row = {
    size: n, mode: stats.mode, build_s: round(built.ms / 1000, 2), build_us_per_vector: round((built.ms * 1000) / n, 1),
    index_MiB: round(stats.bytes.total / 2 ** 20, 1), rss_delta_MiB: built.rssDeltaMiB,
    ...measure(queries, truth, (v) => built.index.search(v, K)), ...(await timeExact(gallery, n, built.index, queries)), ground_truth_s: round(truthS, 1),
  };
  if (n === biggest) rerankSweep = { size: n, rows: sweep(built.index, queries, truth) };
  console.log(JSON.stringify({ size: n, mode: row.mode, build_s: row.build_s, MiB: row.index_MiB, p50: row.latency_ms.p50, recall_at_1: row.recall_at_1, exact_js_p50: row.exact_js_ms.p50 }));
  rows.push(row);
  built = undefined;
}
const defaults = new VectorIndex({ dim: DIM }).stats();
const result = {
  command: 'npm run bench -- gallery (bench/gallery.mjs)',
  dim: DIM, k: K, queries_per_level: PER_LEVEL, levels: LEVELS,
  method: 'exact float32 scan up to exactMaxSize; above it, a 1-bit sketch (signs of a random rotation) of every vector scanned with a WebAssembly popcount loop, then the rerank nearest re-scored exactly in float32',
  defaults: { exactMaxSize: defaults.exactMaxSize, rerank: defaults.rerank, sketchBits: defaults.sketchBits },
  recall: 'recall@1 = share of queries whose top hit is exact brute force\'s top hit; recall@10 = overlap with the exact top 10; queries are a random gallery vector mixed with noise to cosine s',
  sizes: rows,
  rerank_sweep: rerankSweep,
};
console.log(`wrote ${writeResult('gallery', result)}`);
