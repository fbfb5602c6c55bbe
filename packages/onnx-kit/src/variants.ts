import { OPTIMIZATION_LEVELS, type GraphOptimizationLevel } from './ort-options.js';

// Comparing a model's session variants: do their outputs agree, and which is fastest.

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

/** Each variant's time: the fastest of this measurement and the earlier ones (other load only adds time). */
export function mergeFastest<T extends VariantTiming>(timings: readonly T[], earlier: Record<string, number>): T[] {
  return timings.map((t) => {
    const before = earlier[variantName(t)];
    return before !== undefined && Number.isFinite(before) && before < t.ms ? { ...t, ms: before } : t;
  });
}
