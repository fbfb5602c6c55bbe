// Small helpers shared by the benchmarks.
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

export function machine() {
  const cpus = os.cpus();
  // cores: what the host has; usableCpus: what a cgroup quota (a container) leaves this process.
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, usableCpus: serviceKit.usableCpus().cpus, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` };
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

export function writeResult(name, data) {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), machine: machine(), ...data }, null, 2) + '\n');
  return file;
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
  const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide);
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
