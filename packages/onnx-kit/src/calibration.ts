import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { OPTIMIZATION_LEVELS, sessionOptions, type GraphOptimizationLevel } from './ort-options.js';

/**
 * Per-machine choice of session options. Which graph optimization level is fastest depends
 * on the model and on the CPU: fr_feature ran 8.7 ms at 'all' and 11.3 ms at 'extended' on
 * an AMD EPYC (Zen 5) but 58 ms at 'all' and 19–20 ms at 'extended' on an Intel Sapphire
 * Rapids. So every level is measured on the machine that runs the model, on a deterministic
 * synthetic input of the model's shape, and the fastest whose outputs agree with the
 * reference ('disabled': the graph as written) is used. The result is cached beside the
 * models per (model bytes sha256, CPU model + SIMD flags, onnxruntime version, threads,
 * probe shape), so a restart loads at once. docs/models.md, "Session options".
 */

/** 'auto': cached choice, else measure; 'measure': measure even when cached; a level: use it, measure nothing. */
export type CalibrationMode = 'auto' | 'measure' | GraphOptimizationLevel;
export const CALIBRATION_MODES: readonly CalibrationMode[] = ['auto', 'measure', ...OPTIMIZATION_LEVELS];

/** The cache's file name, in the models directory (git-ignored). */
export const CALIBRATION_CACHE_FILE = 'session-calibration.json';

/** The metric each service registers so its sessions' choices are visible (a Gauge set to 1). */
export const SESSION_INFO_METRIC = {
  name: 'lookout_model_session_info',
  help: 'Session options in use per model (1), how they were chosen: measured on this machine, cached from an earlier measurement here, or fixed by MODEL_CALIBRATION',
  labelNames: ['model', 'optimization', 'precision', 'source'] as const,
};

/**
 * Outputs agree when, per output tensor, max |a − b| ≤ atol + rtol · max |ref| and, where
 * the output is not ~0 everywhere (max |ref| ≥ 1e-2), cosine(ref, out) ≥ minCosine.
 * Graph rewrites of fp32 models differ by float rounding: measured ≤ 6e-6 absolute
 * (relative ≤ 1e-6) and cosine 1.0000000 on every model here.
 */
export interface Tolerance {
  atol: number;
  rtol: number;
  minCosine: number;
}
export const DEFAULT_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 1e-3, minCosine: 0.9999 };

export type Outputs = Record<string, ArrayLike<number>>;

export interface Agreement {
  agrees: boolean;
  maxAbsDiff: number;
  minCosine: number;
  reason?: string;
}

export function compareOutputs(ref: Outputs, out: Outputs, tol: Tolerance = DEFAULT_TOLERANCE): Agreement {
  let maxAbsDiff = 0;
  let minCosine = 1;
  for (const [name, a] of Object.entries(ref)) {
    const b = out[name];
    if (!b || b.length !== a.length) return { agrees: false, maxAbsDiff: Infinity, minCosine: 0, reason: `output ${name}: shape differs` };
    let diff = 0;
    let peak = 0;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (!Number.isFinite(y)) return { agrees: false, maxAbsDiff: Infinity, minCosine: 0, reason: `output ${name}: not finite` };
      diff = Math.max(diff, Math.abs(x - y));
      peak = Math.max(peak, Math.abs(x));
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
    maxAbsDiff = Math.max(maxAbsDiff, diff);
    if (peak >= 1e-2) minCosine = Math.min(minCosine, cosine);
    if (diff > tol.atol + tol.rtol * peak) return { agrees: false, maxAbsDiff, minCosine, reason: `output ${name}: max |diff| ${diff.toExponential(2)} > ${(tol.atol + tol.rtol * peak).toExponential(2)}` };
    if (peak >= 1e-2 && cosine < tol.minCosine) return { agrees: false, maxAbsDiff, minCosine, reason: `output ${name}: cosine ${cosine.toFixed(6)} < ${tol.minCosine}` };
  }
  return { agrees: true, maxAbsDiff, minCosine };
}

export interface VariantTiming {
  optimization: GraphOptimizationLevel;
  /** 'fp32' for the model itself, else an alternative's label (e.g. 'int8'). */
  precision?: string;
  /**
   * Fastest ms per run of the probe input: other load only ever adds time, so the minimum
   * ranks variants more reliably than the median on a machine that is not idle.
   */
  ms: number;
  /** Median / minimum of the runs: above NOISY_SPREAD something else was using the CPU. */
  spread?: number;
  agreement: Agreement;
}

/**
 * The fastest variant whose outputs agree with the reference. Variants within `noise`
 * (relative) of the fastest are ties, settled for the model itself (fp32) over an
 * alternative, then for the lowest optimization level: the graph closest to the model as
 * written, and the cheapest session to create. Returns undefined when nothing agrees (the
 * caller falls back to the reference).
 */
export function chooseVariant(timings: readonly VariantTiming[], noise = 0.05): VariantTiming | undefined {
  const ok = timings.filter((t) => t.agreement.agrees && Number.isFinite(t.ms));
  if (ok.length === 0) return undefined;
  const best = Math.min(...ok.map((t) => t.ms));
  const rank = (t: VariantTiming) => ((t.precision ?? 'fp32') === 'fp32' ? 0 : 10) + OPTIMIZATION_LEVELS.indexOf(t.optimization);
  return ok.filter((t) => t.ms <= best * (1 + noise)).sort((a, b) => rank(a) - rank(b))[0];
}

/** A variant's name in logs and the cache: the level for the model itself, 'int8/extended' for an alternative. */
export function variantName(v: { optimization: GraphOptimizationLevel; precision?: string }): string {
  return (v.precision ?? 'fp32') === 'fp32' ? v.optimization : `${v.precision}/${v.optimization}`;
}

// ---- the machine

/** CPU flags that change which kernels onnxruntime (MLAS) runs; others do not enter the cache key. */
const RELEVANT_FLAGS = new Set([
  'sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'f16c',
  'avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'avx512_fp16',
  'amx_tile', 'amx_int8', 'amx_bf16', 'amx_fp16',
  // arm64 (/proc/cpuinfo "Features")
  'asimd', 'asimdhp', 'asimddp', 'i8mm', 'bf16', 'sve', 'sve2', 'sme',
]);

export interface CpuSignature {
  /** e.g. "AMD EPYC (AuthenticAMD family 26 model 2)". */
  model: string;
  /** The relevant SIMD flags it has, sorted. */
  flags: string[];
}

/** Reads the first processor block of /proc/cpuinfo by header names (layouts differ by kernel and architecture). */
export function parseCpuInfo(text: string): CpuSignature | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (fields.size > 0) break;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  if (fields.size === 0) return undefined;
  const name = fields.get('model name') ?? fields.get('hardware') ?? fields.get('cpu model') ?? '';
  const id = [
    fields.get('vendor_id'),
    fields.has('cpu family') ? `family ${fields.get('cpu family')}` : undefined,
    fields.has('model') ? `model ${fields.get('model')}` : undefined,
    fields.has('cpu implementer') ? `implementer ${fields.get('cpu implementer')}` : undefined,
    fields.has('cpu part') ? `part ${fields.get('cpu part')}` : undefined,
  ].filter(Boolean);
  const model = [name, id.length ? `(${id.join(' ')})` : ''].filter(Boolean).join(' ');
  const flags = (fields.get('flags') ?? fields.get('features') ?? '').split(/\s+/).filter((f) => RELEVANT_FLAGS.has(f));
  return { model: model || 'unknown', flags: [...new Set(flags)].sort() };
}

let cpuCache: CpuSignature | undefined;
export function cpuSignature(): CpuSignature {
  if (cpuCache) return cpuCache;
  let parsed: CpuSignature | undefined;
  try {
    parsed = parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    parsed = undefined;
  }
  cpuCache = parsed ?? { model: os.cpus()[0]?.model ?? 'unknown', flags: [] };
  return cpuCache;
}

export function onnxruntimeVersion(): string {
  return ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';
}

// ---- probe input

/**
 * A deterministic input of the given shape: smooth image-like structure (a few sinusoids per
 * channel) plus 25% pseudo-random texture, in [−1, 1] (the range the models' normalisations
 * give). No zeros, no denormals, so no kernel takes a data-dependent shortcut.
 */
export function synthesizeInput(dims: readonly number[], seed = 1): Float32Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const w = dims.length >= 1 ? dims[dims.length - 1]! : 1;
  const h = dims.length >= 2 ? dims[dims.length - 2]! : 1;
  const c = dims.length >= 3 ? dims[dims.length - 3]! : 1;
  const x = new Float32Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const noise = s / 2 ** 32 - 0.5;
    const px = i % w;
    const py = Math.floor(i / w) % h;
    const ch = Math.floor(i / (w * h)) % c;
    const smooth = 0.5 * Math.sin((2 * Math.PI * (px * (1 + ch))) / w + ch) * Math.cos((2 * Math.PI * py * 1.5) / h) + 0.2 * Math.sin((px + py) / 7);
    x[i] = Math.max(-1, Math.min(1, smooth + 0.5 * noise + 0.01));
  }
  return x;
}

function probeFeeds(session: ort.InferenceSession, shapes: ReadonlyArray<readonly number[]> | undefined): { feeds: Record<string, ort.Tensor>; dims: Record<string, number[]> } {
  const feeds: Record<string, ort.Tensor> = {};
  const dims: Record<string, number[]> = {};
  session.inputNames.forEach((name, i) => {
    const meta = session.inputMetadata[i];
    const given = shapes?.[i];
    let shape: number[];
    if (given) shape = [...given];
    else if (meta && 'shape' in meta) {
      shape = meta.shape.map((d, k) => {
        if (typeof d === 'number' && d > 0) return d;
        if (k === 0) return 1;
        throw new Error(`calibration: input ${name} has a symbolic dimension ${k}; give its probe shape`);
      });
    } else throw new Error(`calibration: input ${name} is not a tensor`);
    dims[name] = shape;
    feeds[name] = new ort.Tensor('float32', synthesizeInput(shape, i + 1), shape);
  });
  return { feeds, dims };
}

// ---- measuring

export interface MeasureBudget {
  /** Timed rounds (each runs every variant once): at least this many… */
  minRounds: number;
  /** …and more while under budgetMs, up to maxRounds. */
  maxRounds: number;
  budgetMs: number;
}
export const DEFAULT_BUDGET: MeasureBudget = { minRounds: 3, maxRounds: 15, budgetMs: 250 };

async function runOnce(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Outputs> {
  const out = await session.run(feeds);
  const plain: Outputs = {};
  for (const [k, v] of Object.entries(out)) plain[k] = v.data as Float32Array;
  return plain;
}

/** A measurement whose runs spread more than this (median / min) is used but not cached. */
export const NOISY_SPREAD = 1.3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * One warm-up run per variant (its outputs are compared with the first variant's, the
 * reference), then rounds that run every variant once, in a rotating order, so a change of
 * clock or load during the measurement touches all variants alike. Minimum per variant.
 */
interface Candidate {
  optimization: GraphOptimizationLevel;
  precision: string;
  session: ort.InferenceSession;
  tolerance: Tolerance;
}

async function measure(sessions: Candidate[], feeds: Record<string, ort.Tensor>, budget: MeasureBudget): Promise<VariantTiming[]> {
  const outputs: Outputs[] = [];
  for (const s of sessions) outputs.push(await runOnce(s.session, feeds));
  const times: number[][] = sessions.map(() => []);
  const start = performance.now();
  for (let round = 0; round < budget.maxRounds; round++) {
    if (round >= budget.minRounds && performance.now() - start > budget.budgetMs) break;
    for (let k = 0; k < sessions.length; k++) {
      const i = (k + round) % sessions.length;
      const t0 = performance.now();
      await sessions[i]!.session.run(feeds);
      times[i]!.push(performance.now() - t0);
    }
  }
  return sessions.map((s, i) => ({
    optimization: s.optimization,
    precision: s.precision,
    ms: Math.min(...times[i]!),
    spread: median(times[i]!) / Math.min(...times[i]!),
    agreement: compareOutputs(outputs[0]!, outputs[i]!, s.tolerance),
  }));
}

// ---- cache

export interface CalibrationEntry {
  model: string;
  sha256: string;
  cpu: CpuSignature;
  onnxruntime: string;
  threads: number;
  input: number[][] | 'default';
  /** sha256 of each alternative offered, by label. */
  alternatives?: Record<string, string>;
  optimization: GraphOptimizationLevel;
  /** 'fp32' (the model itself) or the chosen alternative's label. */
  precision: string;
  msPerVariant: Record<string, number>;
  rejected?: Record<string, string>;
  /** Wall time of the whole measurement (sessions created, warm-up, rounds). */
  calibrationMs: number;
  measuredAt: string;
}

interface CacheFile {
  $comment?: string;
  entries: Record<string, CalibrationEntry>;
}

function cacheKey(e: Pick<CalibrationEntry, 'model' | 'sha256' | 'cpu' | 'onnxruntime' | 'threads' | 'input' | 'alternatives'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.model, e.sha256, e.cpu.model, e.cpu.flags, e.onnxruntime, e.threads, e.input, e.alternatives ?? {}]))
    .digest('hex')
    .slice(0, 24);
}

async function readCache(file: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    return { entries: parsed.entries && typeof parsed.entries === 'object' ? parsed.entries : {} };
  } catch {
    return { entries: {} };
  }
}

/** Read-merge-write through a temporary file and a rename: a reader never sees half a file; two writers at once may lose one entry, measured again next start. */
async function writeCache(file: string, key: string, entry: CalibrationEntry): Promise<void> {
  const current = await readCache(file);
  current.entries[key] = entry;
  const out: CacheFile = {
    $comment: 'Session options measured on this machine per model, CPU, onnxruntime version and threads (@lookout/onnx-kit calibration.ts). Safe to delete: it is measured again at the next start.',
    entries: current.entries,
  };
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(out, null, 2)}\n`);
  await rename(tmp, file);
}

// ---- the entry point

export interface LogLike {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface GaugeLike {
  set(labels: Record<string, string>, value: number): void;
}

export interface CalibrationSettings {
  mode?: CalibrationMode;
  /** Default: CALIBRATION_CACHE_FILE beside the model file. */
  cacheFile?: string;
  log?: LogLike;
  /** A gauge with SESSION_INFO_METRIC's labels. */
  info?: GaugeLike;
  budget?: MeasureBudget;
  tolerance?: Tolerance;
  /** Default NOISY_SPREAD. */
  noisySpread?: number;
}

export interface ModelSessionRequest {
  /** The model file (names the model and locates the cache). */
  file: string;
  /** What the session loads when not the file as it is (e.g. after makeBatchDynamic). */
  bytes?: Uint8Array;
  threads: number;
  /** Probe input shape per input, in the model's order; by default the model's, a symbolic batch taken as 1. */
  inputShapes?: number[][];
  /** Label in logs and metrics; default the file name without .onnx. */
  name?: string;
  /**
   * Other files of the same model (e.g. an int8 quantization) measured beside it at every
   * level; one is chosen only when faster and its outputs agree with the model's within its
   * own tolerance. Its accuracy must have been established offline (docs/models.md).
   */
  alternatives?: Array<{ label: string; bytes: Uint8Array; tolerance: Tolerance }>;
}

export interface SessionChoice {
  model: string;
  optimization: GraphOptimizationLevel;
  /** 'fp32' (the model itself) or the chosen alternative's label. */
  precision: string;
  source: 'measured' | 'cached' | 'fixed';
  msPerVariant?: Record<string, number>;
  rejected?: Record<string, string>;
  calibrationMs?: number;
  /** Measured while something else used the CPU (runs spread > NOISY_SPREAD): used now, not cached. */
  noisy?: boolean;
}

/**
 * An int8 variant agrees when its direction matches: cosine ≥ 0.9 per output on the probe
 * (fr_feature.int8: 0.95 on the probe, ≥ 0.94 on every aligned fixture face). A sanity bound
 * against a broken file; the accuracy itself (EER) was measured offline, docs/models.md.
 */
export const INT8_TOLERANCE: Tolerance = { atol: Infinity, rtol: 0, minCosine: 0.9 };

/** `<model>.int8.onnx` beside the model, when `npm run models` made one, as an alternative (after the same `transform`). */
export async function int8Alternative(file: string, transform: (bytes: Uint8Array) => Uint8Array = (b) => b): Promise<NonNullable<ModelSessionRequest['alternatives']>> {
  const int8 = file.replace(/\.onnx$/, '.int8.onnx');
  if (int8 === file) return [];
  let bytes: Uint8Array;
  try {
    bytes = await readFile(int8);
  } catch {
    return [];
  }
  return [{ label: 'int8', bytes: transform(bytes), tolerance: INT8_TOLERANCE }];
}

// Measurements in one process run one at a time: models loaded in parallel would time each other.
let queue: Promise<unknown> = Promise.resolve();
function serially<T>(task: () => Promise<T>): Promise<T> {
  const next = queue.then(task, task);
  queue = next.catch(() => undefined);
  return next;
}

/** Creates the model's session with the options chosen for this machine (cached, measured or fixed), logs and exports the choice. */
export async function createModelSession(req: ModelSessionRequest, settings: CalibrationSettings = {}): Promise<{ session: ort.InferenceSession; choice: SessionChoice }> {
  const model = req.name ?? path.basename(req.file).replace(/\.onnx$/, '');
  const mode = settings.mode ?? 'auto';
  const bytes = req.bytes ?? (await readFile(req.file));
  let result: { session: ort.InferenceSession; choice: SessionChoice };
  if (mode !== 'auto' && mode !== 'measure') {
    result = { session: await ort.InferenceSession.create(bytes, sessionOptions(req.threads, mode)), choice: { model, optimization: mode, precision: 'fp32', source: 'fixed' } };
  } else {
    const cacheFile = settings.cacheFile ?? path.join(path.dirname(path.resolve(req.file)), CALIBRATION_CACHE_FILE);
    const ident = {
      model,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      cpu: cpuSignature(),
      onnxruntime: onnxruntimeVersion(),
      threads: req.threads,
      input: req.inputShapes ?? ('default' as const),
      ...(req.alternatives?.length ? { alternatives: Object.fromEntries(req.alternatives.map((a) => [a.label, createHash('sha256').update(a.bytes).digest('hex')])) } : {}),
    };
    const key = cacheKey(ident);
    const cached = mode === 'auto' ? (await readCache(cacheFile)).entries[key] : undefined;
    const precision = cached?.precision ?? 'fp32';
    const cachedBytes = precision === 'fp32' ? bytes : req.alternatives?.find((a) => a.label === precision)?.bytes;
    if (cached && OPTIMIZATION_LEVELS.includes(cached.optimization) && cachedBytes) {
      result = {
        session: await ort.InferenceSession.create(cachedBytes, sessionOptions(req.threads, cached.optimization)),
        choice: { model, optimization: cached.optimization, precision, source: 'cached', msPerVariant: cached.msPerVariant, ...(cached.rejected ? { rejected: cached.rejected } : {}) },
      };
    } else {
      result = await serially(() => calibrate(bytes, req, model, settings));
      const { optimization, precision: chosen, msPerVariant = {}, rejected, calibrationMs = 0 } = result.choice;
      const entry: CalibrationEntry = { ...ident, optimization, precision: chosen, msPerVariant, ...(rejected ? { rejected } : {}), calibrationMs, measuredAt: new Date().toISOString() };
      try {
        if (!result.choice.noisy) await writeCache(cacheFile, key, entry);
      } catch (err) {
        settings.log?.warn({ model, cacheFile, err: (err as Error).message }, 'session calibration: cannot write the cache; measuring again at each start');
      }
    }
  }
  const c = result.choice;
  settings.log?.info(
    { model, options: { optimization: c.optimization, precision: c.precision, threads: req.threads }, msPerVariant: c.msPerVariant, ...(c.rejected ? { rejected: c.rejected } : {}), source: c.source, ...(c.calibrationMs !== undefined ? { calibrationMs: Math.round(c.calibrationMs) } : {}), ...(c.noisy ? { noisy: true } : {}) },
    'model session options',
  );
  settings.info?.set({ model, optimization: c.optimization, precision: c.precision, source: c.source }, 1);
  return result;
}

async function calibrate(bytes: Uint8Array, req: ModelSessionRequest, model: string, settings: CalibrationSettings): Promise<{ session: ort.InferenceSession; choice: SessionChoice }> {
  const t0 = performance.now();
  const sessions: Candidate[] = [];
  const sources = [{ label: 'fp32', bytes, tolerance: settings.tolerance ?? DEFAULT_TOLERANCE }, ...(req.alternatives ?? [])];
  try {
    for (const src of sources) {
      for (const optimization of OPTIMIZATION_LEVELS) {
        let session: ort.InferenceSession;
        try {
          session = await ort.InferenceSession.create(src.bytes, sessionOptions(req.threads, optimization));
        } catch (err) {
          // The model itself must load; an alternative that does not is left out, not fatal.
          if (src.label === 'fp32') throw err;
          settings.log?.warn({ model, alternative: src.label, optimization, err: (err as Error).message }, 'session calibration: alternative does not load; left out');
          continue;
        }
        sessions.push({ optimization, precision: src.label, tolerance: src.tolerance, session });
      }
    }
    const { feeds } = probeFeeds(sessions[0]!.session, req.inputShapes);
    const timings = await measure(sessions, feeds, settings.budget ?? DEFAULT_BUDGET);
    const chosen = chooseVariant(timings) ?? timings[0]!;
    const msPerVariant: Record<string, number> = {};
    const rejected: Record<string, string> = {};
    for (const t of timings) {
      msPerVariant[variantName(t)] = Math.round(t.ms * 100) / 100;
      if (!t.agreement.agrees) rejected[variantName(t)] = t.agreement.reason ?? 'outputs differ';
    }
    const keep = sessions[timings.indexOf(chosen)]!;
    const noisy = timings.some((t) => (t.spread ?? 1) > (settings.noisySpread ?? NOISY_SPREAD));
    await Promise.all(sessions.filter((s) => s !== keep).map((s) => s.session.release()));
    return {
      session: keep.session,
      choice: { model, optimization: chosen.optimization, precision: keep.precision, source: 'measured', msPerVariant, ...(Object.keys(rejected).length ? { rejected } : {}), calibrationMs: performance.now() - t0, ...(noisy ? { noisy } : {}) },
    };
  } catch (err) {
    await Promise.all(sessions.map((s) => s.session.release().catch(() => undefined)));
    throw err;
  }
}
