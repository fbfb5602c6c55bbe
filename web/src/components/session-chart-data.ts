import { ALERT_KINDS, type ExpressionLabel, type SessionReport } from '@lookout/contracts';
import type uPlot from 'uplot';

/**
 * Turns a SessionReport into uPlot's aligned columns. Pure functions, so the live view
 * and the final report chart the same way and the charts stay in sync with the tables.
 */

type Alert = SessionReport['alerts'][number];

export const SEVERITY_COLOURS: Record<string, string> = { info: '#2f6fb0', warning: '#b06a00', critical: '#b3261e' };

/** Top to bottom in the expression chart: pleasant first, so "up" reads as "better". */
export const EXPRESSION_ORDER = ['happy', 'surprise', 'neutral', 'sad', 'fear', 'disgust', 'angry'] as const satisfies readonly ExpressionLabel[];

/** The time span every chart of a report shares, so they line up under one another. */
export function reportRange(r: SessionReport): [number, number] {
  const end = r.session.endedMs ?? r.generatedMs;
  const xs = [...r.timelines.engagement.map((p) => p[0]), ...r.alerts.flatMap((a) => [a.startMs, a.endMs ?? end])];
  // A recording's charts start at video time 0 (its session may have started a little before or after on the clock).
  const rec = r.session.recording;
  if (rec) {
    const hi = Math.max(rec.videoBaseMs + (rec.durationMs ?? 0), ...xs.map((x) => x + 1000));
    return [rec.videoBaseMs, hi > rec.videoBaseMs ? hi : rec.videoBaseMs + 1000];
  }
  const lo = Math.min(r.session.startedMs, ...xs);
  const hi = Math.max(end, ...xs.map((x) => x + 1000));
  return [lo, hi > lo ? hi : lo + 1000];
}

/** Engagement, eye contact and positivity per second: [x, eng, eye, pos]. */
export function scoreColumns(r: SessionReport): uPlot.AlignedData {
  const t = r.timelines;
  const byX = (tl: Array<[number, number | null]>) => new Map(tl);
  const eye = byX(t.eyeContact);
  const pos = byX(t.positivity);
  const xs = t.engagement.map((p) => p[0]);
  return [xs, t.engagement.map((p) => p[1]), xs.map((x) => eye.get(x) ?? null), xs.map((x) => pos.get(x) ?? null)];
}

/** Lane labels of the expression chart (index = y), with any label the model adds later. */
export function expressionLanes(r: SessionReport): string[] {
  const extra = [...new Set(r.timelines.expression.map((p) => p[1]))].filter((l) => !(EXPRESSION_ORDER as readonly string[]).includes(l));
  // y grows upwards: the first label of the order gets the highest index.
  return [...extra, ...[...EXPRESSION_ORDER].reverse()];
}

export function expressionColumns(r: SessionReport, lanes: string[]): uPlot.AlignedData {
  const tl = r.timelines.expression;
  return [tl.map((p) => p[0]), tl.map((p) => lanes.indexOf(p[1]))];
}

/** Seconds per dominant expression, most frequent first. */
export function expressionShares(r: SessionReport): Array<{ label: string; seconds: number; share: number }> {
  const counts = new Map<string, number>();
  for (const [, l] of r.timelines.expression) counts.set(l, (counts.get(l) ?? 0) + 1);
  const total = r.timelines.expression.length || 1;
  return [...counts].map(([label, seconds]) => ({ label, seconds, share: seconds / total })).sort((a, b) => b.seconds - a.seconds);
}

/** Alert kinds present, in the contract's order: one lane each. */
export function alertLanes(r: SessionReport): Array<{ kind: string; severity: string }> {
  const kinds = [...new Set(r.alerts.map((a) => a.kind))].sort((a, b) => order(a) - order(b));
  return kinds.map((kind) => ({ kind, severity: worst(r.alerts.filter((a) => a.kind === kind)) }));
}

/**
 * One series per lane: the lane's index while an episode lasts, null elsewhere, so uPlot
 * draws each episode as a thick horizontal bar from its start to its end. A gap point just
 * after each end keeps two episodes of one kind from joining up.
 */
export function alertColumns(r: SessionReport, lanes: Array<{ kind: string }>): uPlot.AlignedData {
  const end = r.session.endedMs ?? r.generatedMs;
  const spans = r.alerts.map((a) => ({ kind: a.kind, from: a.startMs, to: a.endMs ?? end }));
  const xs = [...new Set(spans.flatMap((s) => [s.from, s.to, s.to + 1]))].sort((a, b) => a - b);
  const ys = lanes.map((lane, i) => xs.map((x) => (spans.some((s) => s.kind === lane.kind && s.from <= x && x <= s.to) ? i : null)));
  return [xs, ...ys];
}

function order(kind: string): number {
  const i = (ALERT_KINDS as readonly string[]).indexOf(kind);
  return i < 0 ? ALERT_KINDS.length : i;
}

function worst(alerts: Alert[]): string {
  const rank = ['info', 'warning', 'critical'];
  return alerts.reduce((w, a) => (rank.indexOf(a.severity) > rank.indexOf(w) ? a.severity : w), 'info');
}

/** "1:05" from a duration in ms. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
