import ort from 'onnxruntime-node';
import type { GraphOptimizationLevel } from './ort-options.js';
import { compareOutputs, type Outputs, type Tolerance, type VariantTiming } from './variants.js';

// Timing a model's session variants on a deterministic synthetic input of its shape.

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

export function probeFeeds(session: ort.InferenceSession, shapes: ReadonlyArray<readonly number[]> | undefined): { feeds: Record<string, ort.Tensor>; dims: Record<string, number[]> } {
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

/** One session variant being measured. */
export interface Candidate {
  optimization: GraphOptimizationLevel;
  precision: string;
  session: ort.InferenceSession;
  tolerance: Tolerance;
}

/**
 * One warm-up run per variant (its outputs are compared with the first variant's, the
 * reference), then rounds that run every variant once, in a rotating order, so a change of
 * clock or load during the measurement touches all variants alike. Minimum per variant.
 */
export async function measure(sessions: Candidate[], feeds: Record<string, ort.Tensor>, budget: MeasureBudget): Promise<VariantTiming[]> {
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
