import { iou, type Rect } from '@lookout/contracts';

/** One face's result: its box, its value and, where it was carried from an earlier run, that run's capture time. */
export interface RunResult<T> {
  box: Rect;
  value: T;
  atMs?: number;
}

interface LastRun<T> {
  captureMs: number;
  results: Array<RunResult<T>>;
}

/**
 * Capture times this far behind a stream's last run are frames that arrived out of order
 * (another replica analysed a newer one first; live frames older than MAX_FRAME_AGE_MS are
 * dropped anyway); further back, the source restarted its clock and the cadence starts over.
 */
export const REORDER_WINDOW_MS = 2000;

/** The analyzers a stream may run on a cadence (an interval > 0), whose runs replicas share. */
export type CadencedAnalyzer = 'pose' | 'eyes' | 'expression' | 'liveness' | 'text';

/**
 * When a slow analyzer last ran on a stream, and what it found, so its result can be
 * carried onto later frames with its age. Soft state: losing it (restart) only means one
 * extra run. Replicas sharing a stream learn each other's runs from the faces messages they
 * publish (PeerCadence), so a cadence runs about as often with R replicas as with one.
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
   * clock went back past the reorder window, negative while not due yet: a frame older than
   * the last run is not due).
   */
  overdueBy(stream: string, analyzer: string, captureMs: number, intervalMs: number): number {
    const last = this.streams.get(stream)?.runs.get(analyzer);
    if (!last || last.captureMs - captureMs > REORDER_WINDOW_MS) return Infinity;
    return captureMs - last.captureMs - intervalMs;
  }

  /**
   * Notes a run of `analyzer` on the frame captured at `captureMs` (this replica's or a
   * peer's). A run on an older frame than the one recorded keeps the newer one, unless the
   * clock went back past the reorder window; a second report of the recorded frame (this
   * replica's own faces message coming back) changes nothing.
   */
  record<T>(stream: string, analyzer: string, captureMs: number, results: Array<RunResult<T>>): void {
    let entry = this.streams.get(stream);
    if (!entry) {
      entry = { seenMs: captureMs, runs: new Map() };
      this.streams.set(stream, entry);
    }
    const last = entry.runs.get(analyzer);
    if (last && captureMs <= last.captureMs && last.captureMs - captureMs <= REORDER_WINDOW_MS) return;
    entry.seenMs = Math.max(entry.seenMs, captureMs);
    entry.runs.set(analyzer, { captureMs, results });
  }

  /**
   * The last result for each face, matched by box overlap (IoU ≥ 0.3, best first, each
   * result used once), with its age (from the run that computed it); undefined for a face
   * with no match.
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
      const r = last.results[j]!;
      out[i] = { value: r.value, ageMs: Math.max(0, captureMs - (r.atMs ?? last.captureMs)) };
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
