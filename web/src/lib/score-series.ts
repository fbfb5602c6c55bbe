import type { StreamMetricsEvent } from '@lookout/contracts';

/**
 * Per-second engagement and eye contact of one stream, from reid's per-second metrics
 * events (the `metrics` feed), kept for the last WINDOW_S seconds in uPlot's column layout.
 */
const WINDOW_S = 120;

export interface ScorePoint {
  second: number;
  engagement: number | null;
  eyeContact: number | null;
  latencyMs: number | null;
}

export class ScoreSeries {
  private readonly points: ScorePoint[] = [];
  private readonly listeners = new Set<() => void>();

  push(m: StreamMetricsEvent): void {
    const p: ScorePoint = { second: m.second, engagement: m.scores.engagement, eyeContact: m.scores.eyeContact, latencyMs: m.latencyMs };
    const i = this.points.findIndex((x) => x.second >= m.second);
    if (i === -1) this.points.push(p);
    else if (this.points[i]!.second === m.second) this.points[i] = p;
    else this.points.splice(i, 0, p);
    const oldest = this.points.at(-1)!.second - WINDOW_S;
    while (this.points.length && this.points[0]!.second < oldest) this.points.shift();
    for (const fn of this.listeners) fn();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  latest(): ScorePoint | undefined {
    return this.points.at(-1);
  }

  /** [seconds, engagement, eye contact]: uPlot's AlignedData (null = a gap). */
  columns(): [number[], Array<number | null>, Array<number | null>] {
    // uPlot cannot scale an x axis of one value (it draws nothing): lead a lone point with a gap.
    const pts: ScorePoint[] = this.points.length === 1 ? [{ second: this.points[0]!.second - 1, engagement: null, eyeContact: null, latencyMs: null }, ...this.points] : this.points;
    return [pts.map((p) => p.second), pts.map((p) => p.engagement), pts.map((p) => p.eyeContact)];
  }
}
