import { iou, type Rect } from '@lookout/contracts';

interface LastRun<T> {
  captureMs: number;
  results: Array<{ box: Rect; value: T }>;
}

/**
 * When a slow analyzer last ran on a stream, and what it found, so its result can be
 * carried onto later frames with its age. Soft state: losing it (restart, another
 * replica) only means one extra run. With R replicas sharing a stream, each keeps its
 * own, so a cadence can run up to R times as often.
 */
export class CadenceTracker {
  private readonly streams = new Map<string, { seenMs: number; runs: Map<string, LastRun<unknown>> }>();

  constructor(private readonly forgetAfterMs = 60_000) {}

  /** True when `analyzer` has not run on this stream within `intervalMs` of `captureMs`. */
  due(stream: string, analyzer: string, captureMs: number, intervalMs: number): boolean {
    return this.overdueBy(stream, analyzer, captureMs, intervalMs) >= 0;
  }

  /**
   * How long past due `analyzer` is on this stream (ms; Infinity if it never ran or the
   * clock went backwards, negative while not due yet).
   */
  overdueBy(stream: string, analyzer: string, captureMs: number, intervalMs: number): number {
    const last = this.streams.get(stream)?.runs.get(analyzer);
    if (!last || captureMs < last.captureMs) return Infinity;
    return captureMs - last.captureMs - intervalMs;
  }

  record<T>(stream: string, analyzer: string, captureMs: number, results: Array<{ box: Rect; value: T }>): void {
    let entry = this.streams.get(stream);
    if (!entry) {
      entry = { seenMs: captureMs, runs: new Map() };
      this.streams.set(stream, entry);
    }
    entry.seenMs = captureMs;
    entry.runs.set(analyzer, { captureMs, results });
  }

  /**
   * The last result for each face, matched by box overlap (IoU ≥ 0.3, best first, each
   * result used once), with its age; undefined for a face with no match.
   */
  carry<T>(stream: string, analyzer: string, boxes: readonly Rect[], captureMs: number): Array<{ value: T; ageMs: number } | undefined> {
    const last = this.streams.get(stream)?.runs.get(analyzer) as LastRun<T> | undefined;
    const out: Array<{ value: T; ageMs: number } | undefined> = boxes.map(() => undefined);
    if (!last) return out;
    const pairs = boxes.flatMap((b, i) => last.results.map((r, j) => ({ i, j, overlap: iou(b, r.box) }))).filter((p) => p.overlap >= 0.3);
    pairs.sort((a, b) => b.overlap - a.overlap);
    const used = new Set<number>();
    for (const { i, j } of pairs) {
      if (out[i] || used.has(j)) continue;
      used.add(j);
      out[i] = { value: last.results[j]!.value, ageMs: Math.max(0, captureMs - last.captureMs) };
    }
    return out;
  }

  /** Drops streams not seen for a while (by capture time of the newest frame seen). */
  sweep(nowMs: number): void {
    for (const [key, entry] of this.streams) if (nowMs - entry.seenMs > this.forgetAfterMs) this.streams.delete(key);
  }

  get size(): number {
    return this.streams.size;
  }
}
