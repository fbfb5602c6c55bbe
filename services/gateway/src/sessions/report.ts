import type { AlertEvent, RecognitionEvent, SessionInfo, SessionReport, StreamMetricsEvent } from '@lookout/contracts';
import { byCodeUnits } from '@lookout/service-kit';
import { buildAttendance, combinePeople } from './attendance.js';

/** The events of one session, as read back from LOOKOUT_EVENTS (any order, may repeat). */
export interface SessionEvents {
  alerts: AlertEvent[];
  recognitions: RecognitionEvent[];
  metrics: StreamMetricsEvent[];
}

type ScoreName = keyof StreamMetricsEvent['scores'];
type Summary = SessionReport['scores']['engagement'];
type Point = [number, number | null];

const SCORE_NAMES: readonly ScoreName[] = ['engagement', 'eyeContact', 'positivity', 'postureStability', 'confidence'];

/**
 * Builds a session's report from its events. Pure, so the live view and the final report
 * are the same computation over more or fewer events, and any gateway rebuilds the same
 * report from the stream.
 */
export function buildReport(session: SessionInfo, events: SessionEvents, generatedMs: number): SessionReport {
  const nowMs = clockOf(session, generatedMs);
  const seconds = mergeSeconds(events.metrics.filter((m) => m.sessionId === session.sessionId));
  const alerts = withVideoTimes(session, mergeEpisodes(events.alerts.filter((a) => a.sessionId === session.sessionId)));
  const recognitions = events.recognitions.filter((r) => r.sessionId === session.sessionId);
  const frames = seconds.reduce((s, m) => s + m.frames, 0);
  const gaps = analysisGaps(session, seconds, nowMs);
  const timeline = (name: ScoreName): Point[] => withBreaks(seconds.map((m) => [m.second * 1000, round(m.scores[name])]), gaps);
  return {
    session,
    generatedMs,
    durationMs: coveredMs(session, seconds, alerts, nowMs),
    framesAnalysed: frames,
    principalPresent: frames > 0 ? round(seconds.reduce((s, m) => s + m.principalPresent * m.frames, 0) / frames, 3) : null,
    analysedShare: analysedShare(session, seconds, nowMs),
    gaps,
    scores: Object.fromEntries(SCORE_NAMES.map((n) => [n, summarize(seconds.map((m) => m.scores[n]))])) as SessionReport['scores'],
    timelines: {
      engagement: timeline('engagement'),
      eyeContact: timeline('eyeContact'),
      positivity: timeline('positivity'),
      expression: seconds.flatMap((m) => {
        const label = dominant(m.expressions);
        return label ? [[m.second * 1000, label] as [number, string]] : [];
      }),
    },
    alerts,
    identity: identitySummary(session, recognitions, alerts),
    attendance: buildAttendance(seconds, recognitions),
  };
}

/**
 * "Now" on the session's clock. A recording's capture clock runs from its video's time 0
 * (`videoBaseMs`, in the past) to its end: while it is analysed, the time after the last
 * analysed second is not a gap, just not reached yet.
 */
function clockOf(session: SessionInfo, nowMs: number): number {
  const r = session.recording;
  if (!r || r.durationMs === undefined) return nowMs;
  return Math.min(nowMs, r.videoBaseMs + r.durationMs);
}

/** A recording's episodes say where they start in the video, for a player to seek to. */
function withVideoTimes(session: SessionInfo, alerts: SessionReport['alerts']): SessionReport['alerts'] {
  const r = session.recording;
  if (!r) return alerts;
  return alerts.map((a) => ({ ...a, videoMs: Math.max(0, a.startMs - r.videoBaseMs) }));
}

/**
 * How long the session lasted: start to end (or now) on the gateway's clock, stretched to
 * cover the session's own analysed seconds and episodes. reid tags an event with the
 * session only while the session holds the stream, so those events prove it ran at least
 * that long; their times come from the capture clock (the SFU's, or the publisher's
 * browser for fallback upload), and when that clock disagrees with the gateway's the
 * report must still not claim a shorter session than the data it shows.
 */
export function coveredMs(session: SessionInfo, seconds: StreamMetricsEvent[], alerts: SessionReport['alerts'], nowMs: number): number {
  let lo = session.startedMs;
  let hi = session.endedMs ?? nowMs;
  for (const m of seconds) {
    lo = Math.min(lo, m.second * 1000);
    // A point at second t stands for the whole second.
    hi = Math.max(hi, m.second * 1000 + 1000);
  }
  for (const a of alerts) {
    lo = Math.min(lo, a.startMs);
    hi = Math.max(hi, a.endMs ?? a.startMs);
  }
  return Math.max(0, hi - lo);
}

/** Analysis missing this long is a gap in the report; shorter holes are shed or late frames. */
export const GAP_MS = 3000;
/**
 * A second's metrics are published when the next second begins (or the stream ends), so
 * the live report always trails now by up to a second and a half: only silence beyond
 * that is an open gap.
 */
const PUBLISH_LAG_MS = 2000;

/**
 * Spans of the session without one analysed second: a stream that stopped (publisher
 * gone, camera reconnecting, tap stalled, a service down) must read as "not known" in
 * the report, never as the presence of the last frame seen. Bounded by the session on
 * the gateway's clock; `seconds` must be merged and in time order.
 */
export function analysisGaps(session: SessionInfo, seconds: StreamMetricsEvent[], nowMs: number): SessionReport['gaps'] {
  const gaps: SessionReport['gaps'] = [];
  let covered = session.startedMs;
  for (const m of seconds) {
    const t = m.second * 1000;
    if (t - covered >= GAP_MS) gaps.push({ startMs: covered, endMs: t });
    covered = Math.max(covered, t + 1000);
  }
  const end = session.endedMs ?? nowMs - PUBLISH_LAG_MS;
  if (end - covered >= GAP_MS) gaps.push({ startMs: covered, endMs: session.endedMs === undefined ? null : end });
  return gaps;
}

/** Analysed seconds over the session's seconds so far; null until the session has a second. */
function analysedShare(session: SessionInfo, seconds: StreamMetricsEvent[], nowMs: number): number | null {
  const lo = Math.floor(session.startedMs / 1000);
  const hi = Math.ceil((session.endedMs ?? nowMs) / 1000);
  if (hi <= lo) return null;
  const inside = seconds.filter((m) => m.second >= lo && m.second < hi).length;
  return round(Math.min(1, inside / (hi - lo)), 3);
}

/** A null point at each gap's start, so a chart breaks the line there instead of bridging it. */
function withBreaks(points: Point[], gaps: SessionReport['gaps']): Point[] {
  if (gaps.length === 0) return points;
  return [...points, ...gaps.map((g): Point => [g.startMs, null])].sort((a, b) => a[0] - b[0]);
}

/**
 * One entry per second, in time order. A second is normally published once (deduplicated
 * by its Nats-Msg-Id), but a session change or a stream end can flush a partial second
 * that the next frame continues: those parts are combined, weighted by frames.
 */
export function mergeSeconds(metrics: StreamMetricsEvent[]): StreamMetricsEvent[] {
  const bySecond = new Map<number, StreamMetricsEvent>();
  for (const m of metrics) {
    const prev = bySecond.get(m.second);
    bySecond.set(m.second, prev ? combine(prev, m) : m);
  }
  return [...bySecond.values()].sort((a, b) => a.second - b.second);
}

function combine(a: StreamMetricsEvent, b: StreamMetricsEvent): StreamMetricsEvent {
  const n = a.frames + b.frames;
  const w = (x: number, y: number) => (n > 0 ? (x * a.frames + y * b.frames) / n : (x + y) / 2);
  const score = (k: ScoreName) => {
    const x = a.scores[k];
    const y = b.scores[k];
    return x === null ? y : y === null ? x : w(x, y);
  };
  const expressions = { ...a.expressions };
  for (const [k, v] of Object.entries(b.expressions)) expressions[k] = (expressions[k] ?? 0) + v;
  const latency = a.latencyMs === null ? b.latencyMs : b.latencyMs === null ? a.latencyMs : w(a.latencyMs, b.latencyMs);
  return {
    ...a,
    frames: n,
    facesMean: w(a.facesMean, b.facesMean),
    principalPresent: w(a.principalPresent, b.principalPresent),
    scores: Object.fromEntries(SCORE_NAMES.map((k) => [k, score(k)])) as StreamMetricsEvent['scores'],
    expressions,
    latencyMs: latency,
    ...withPeople(combinePeople(a.people, b.people), (a.peopleLeftOut ?? 0) + (b.peopleLeftOut ?? 0)),
  };
}

function withPeople(people: StreamMetricsEvent['people'], leftOut: number): Pick<StreamMetricsEvent, 'people' | 'peopleLeftOut'> {
  return { ...(people ? { people } : {}), ...(leftOut > 0 ? { peopleLeftOut: leftOut } : {}) };
}

/** Open and close events of one episode (same id) become one entry; still-open ones end null. */
export function mergeEpisodes(events: AlertEvent[]): SessionReport['alerts'] {
  const byId = new Map<string, { first: AlertEvent; closed?: AlertEvent }>();
  for (const e of events) {
    const entry = byId.get(e.id) ?? { first: e };
    if (e.state === 'closed') entry.closed = e;
    byId.set(e.id, entry);
  }
  return [...byId.values()]
    .map(({ first, closed }) => {
      // The close event repeats the episode's start; its message says why it ended.
      const e = closed ?? first;
      return {
        id: e.id,
        kind: e.kind,
        severity: e.severity,
        startMs: e.startMs,
        endMs: closed ? (closed.endMs ?? closed.startMs) : null,
        message: first.message,
        ...(e.from ? { from: e.from } : {}),
        ...(e.to ? { to: e.to } : {}),
      };
    })
    .sort((a, b) => a.startMs - b.startMs || byCodeUnits(a.id, b.id));
}

function identitySummary(session: SessionInfo, recognitions: RecognitionEvent[], alerts: SessionReport['alerts']): SessionReport['identity'] {
  const groups = new Map<string, SessionReport['identity']['recognized'][number]>();
  for (const r of [...recognitions].sort((a, b) => a.captureMs - b.captureMs)) {
    const key = `${r.decision}:${r.subjectId ?? ''}`;
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.bestSimilarity = Math.max(g.bestSimilarity, round(r.similarity, 4) ?? 0);
    } else groups.set(key, { subjectId: r.subjectId, name: r.name, decision: r.decision, count: 1, firstMs: r.captureMs, bestSimilarity: round(r.similarity, 4) ?? 0 });
  }
  const recognized = [...groups.values()];
  const changes = alerts.filter((a) => a.kind === 'identity_changed').length;
  const expected = session.expectedSubjectId ?? null;
  const seenExpected = recognized.some((g) => g.decision === 'PASS' && g.subjectId === expected);
  return { expectedSubjectId: expected, recognized, changes, verified: expected === null ? null : seenExpected && changes === 0 };
}

/** mean/min/max/p10/p90 over the per-second means that have a value; null when none has. */
export function summarize(values: Array<number | null>): Summary {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return { mean: r1(mean), min: r1(v[0]!), max: r1(v[v.length - 1]!), p10: r1(quantile(v, 0.1)), p90: r1(quantile(v, 0.9)) };
}

/** Linear interpolation between closest ranks (the common "type 7" definition). */
export function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return a + (b - a) * (pos - lo);
}

/** The label with the most frames; ties go to the first in alphabetical order (stable output). */
function dominant(expressions: Record<string, number>): string | undefined {
  let best: [string, number] | undefined;
  for (const [label, n] of Object.entries(expressions).sort(([a], [b]) => byCodeUnits(a, b))) {
    if (n > 0 && (!best || n > best[1])) best = [label, n];
  }
  return best?.[0];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
function round(x: number | null, digits = 1): number | null {
  if (x === null) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
