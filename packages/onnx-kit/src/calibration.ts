import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { cacheKey, readCache, writeCache, type CalibrationEntry } from './calibration-cache.js';
import { cpuSignature, onnxruntimeVersion } from './cpu-signature.js';
import { OPTIMIZATION_LEVELS, sessionOptions, type GraphOptimizationLevel } from './ort-options.js';
import { DEFAULT_BUDGET, measure, NOISY_SPREAD, probeFeeds, type Candidate, type MeasureBudget } from './probe.js';
import { chooseVariant, DEFAULT_TOLERANCE, mergeFastest, variantName, type Tolerance } from './variants.js';

/**
 * Per-machine choice of session options. Which graph optimization level is fastest depends
 * on the model and on the CPU: fr_feature ran 8.7 ms at 'all' and 11.3 ms at 'extended' on
 * an AMD EPYC (Zen 5) but 58 ms at 'all' and 19–20 ms at 'extended' on an Intel Sapphire
 * Rapids. So every level is measured on the machine that runs the model, on a deterministic
 * synthetic input of the model's shape, and the fastest whose outputs agree with the
 * reference ('disabled': the graph as written) is used. The result is cached beside the
 * models per (model bytes sha256, CPU model + SIMD flags, onnxruntime version, threads,
 * probe shape), so a restart loads at once. docs/models.md, "Session options".
 * The pieces: variants.ts (agreement, choice), probe.ts (timing), cpu-signature.ts and
 * calibration-cache.ts (what a measurement is valid for, and where it is kept).
 */

/** 'auto': cached choice, else measure; 'measure': measure even when cached; a level: use it, measure nothing. */
export type CalibrationMode = 'auto' | 'measure' | GraphOptimizationLevel;
export const CALIBRATION_MODES: readonly CalibrationMode[] = ['auto', 'measure', ...OPTIMIZATION_LEVELS];

/** The cache's file name, in the models directory (git-ignored). */
export const CALIBRATION_CACHE_FILE = 'session-calibration.json';

/**
 * Quiet measurements a cached choice needs before it is trusted for good. Until then each
 * start measures again and keeps, per variant, the fastest time any start saw (other load
 * only ever adds time): one start on a machine busy with something else — every level
 * ~5× slower, evenly, so the spread check cannot tell — no longer fixes a wrong choice forever.
 */
export const SETTLE_RUNS = 3;

/** The metric each service registers so its sessions' choices are visible (a Gauge set to 1). */
export const SESSION_INFO_METRIC = {
  name: 'lookout_model_session_info',
  help: 'Session options in use per model (1), how they were chosen: measured on this machine, cached from an earlier measurement here, or fixed by MODEL_CALIBRATION',
  labelNames: ['model', 'optimization', 'precision', 'source'] as const,
};

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
  /** Measured while something else used the CPU (runs spread > NOISY_SPREAD): does not count towards SETTLE_RUNS. */
  noisy?: boolean;
  /** Quiet measurements merged into msPerVariant so far (SETTLE_RUNS). */
  runs?: number;
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
    const settled = (cached?.runs ?? 1) >= SETTLE_RUNS;
    if (cached && settled && OPTIMIZATION_LEVELS.includes(cached.optimization) && cachedBytes) {
      result = {
        session: await ort.InferenceSession.create(cachedBytes, sessionOptions(req.threads, cached.optimization)),
        choice: { model, optimization: cached.optimization, precision, source: 'cached', msPerVariant: cached.msPerVariant, ...(cached.rejected ? { rejected: cached.rejected } : {}) },
      };
    } else {
      const prior = cached && { msPerVariant: cached.msPerVariant, runs: cached.runs ?? 1 };
      result = await serially(() => calibrate(bytes, req, model, settings, prior));
      const { optimization, precision: chosen, msPerVariant = {}, rejected, calibrationMs = 0, runs = 1 } = result.choice;
      const entry: CalibrationEntry = { ...ident, optimization, precision: chosen, msPerVariant, ...(rejected ? { rejected } : {}), calibrationMs, measuredAt: new Date().toISOString(), runs };
      try {
        // A noisy first measurement is not kept (the next start measures afresh); a noisy
        // later one still only lowers times, so it is merged, though it does not count.
        if (!result.choice.noisy || prior) await writeCache(cacheFile, key, entry);
      } catch (err) {
        settings.log?.warn({ model, cacheFile, err: (err as Error).message }, 'session calibration: cannot write the cache; measuring again at each start');
      }
    }
  }
  const c = result.choice;
  settings.log?.info(
    { model, options: { optimization: c.optimization, precision: c.precision, threads: req.threads }, msPerVariant: c.msPerVariant, ...(c.rejected ? { rejected: c.rejected } : {}), source: c.source, ...(c.calibrationMs !== undefined ? { calibrationMs: Math.round(c.calibrationMs) } : {}), ...(c.noisy ? { noisy: true } : {}), ...(c.runs !== undefined ? { runs: c.runs, settleRuns: SETTLE_RUNS } : {}) },
    'model session options',
  );
  settings.info?.set({ model, optimization: c.optimization, precision: c.precision, source: c.source }, 1);
  return result;
}

/** What earlier starts measured for the same cache key (createModelSession, SETTLE_RUNS). */
interface PriorMeasurement {
  msPerVariant: Record<string, number>;
  runs: number;
}

async function calibrate(bytes: Uint8Array, req: ModelSessionRequest, model: string, settings: CalibrationSettings, prior?: PriorMeasurement): Promise<{ session: ort.InferenceSession; choice: SessionChoice }> {
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
    const measured = await measure(sessions, feeds, settings.budget ?? DEFAULT_BUDGET);
    const noisy = measured.some((t) => (t.spread ?? 1) > (settings.noisySpread ?? NOISY_SPREAD));
    const timings = prior ? mergeFastest(measured, prior.msPerVariant) : measured;
    const chosen = chooseVariant(timings) ?? timings[0]!;
    const msPerVariant: Record<string, number> = {};
    const rejected: Record<string, string> = {};
    for (const t of timings) {
      msPerVariant[variantName(t)] = Math.round(t.ms * 100) / 100;
      if (!t.agreement.agrees) rejected[variantName(t)] = t.agreement.reason ?? 'outputs differ';
    }
    const keep = sessions[timings.indexOf(chosen)]!;
    const runs = (prior?.runs ?? 0) + (noisy ? 0 : 1);
    await Promise.all(sessions.filter((s) => s !== keep).map((s) => s.session.release()));
    return {
      session: keep.session,
      choice: { model, optimization: chosen.optimization, precision: keep.precision, source: 'measured', msPerVariant, ...(Object.keys(rejected).length ? { rejected } : {}), calibrationMs: performance.now() - t0, ...(noisy ? { noisy } : {}), runs },
    };
  } catch (err) {
    await Promise.all(sessions.map((s) => s.session.release().catch(() => undefined)));
    throw err;
  }
}

