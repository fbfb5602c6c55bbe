import type ort from 'onnxruntime-node';

/**
 * Session options shared by every model (detector and reid). Several sessions run one after
 * another per frame; with spinning thread pools each one's idle threads burn the cores the
 * next one needs (measured: 2 threads ran 3× slower than 1 on 2 cores), so spinning is off.
 */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}
