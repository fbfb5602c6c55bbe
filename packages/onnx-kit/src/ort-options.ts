import type ort from 'onnxruntime-node';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';
export const OPTIMIZATION_LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

/**
 * Session options shared by every model (detector and reid). Several sessions run one after
 * another per frame; with spinning thread pools each one's idle threads burn the cores the
 * next one needs (measured: 2 threads ran 3× slower than 1 on 2 cores), so spinning is off.
 * The graph optimization level is not fixed here: which one is fastest depends on the model
 * and the CPU (calibration.ts measures it); 'all' is onnxruntime's own default.
 */
export function sessionOptions(threads: number, optimization: GraphOptimizationLevel = 'all'): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    graphOptimizationLevel: optimization,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}
