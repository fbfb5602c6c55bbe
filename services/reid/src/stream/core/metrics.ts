import { METRICS_PEOPLE_MAX, type FaceScores, type StreamMetricsEvent } from '@lookout/contracts';
import type { FrameFacts } from './types.js';
import { subjectFace } from './rules/conditions.js';

/**
 * Per-second metrics of one stream. Sums, not means, are kept so the accumulator is a few
 * numbers of plain JSON that live in the stream's KV entry next to the rule state; a
 * second is emitted once, when the first frame of another second arrives.
 */

export type SecondMetrics = Omit<StreamMetricsEvent, 'room' | 'stream' | 'sessionId'>;

const SCORE_KEYS = ['eyeContact', 'engagement', 'positivity', 'postureStability', 'confidence'] as const;

export interface MetricsAccumulator {
  /** Capture time in whole seconds since epoch. */
  second: number;
  frames: number;
  facesSum: number;
  principalPresentFrames: number;
  /** Frames that had a principal/only face: the denominator of the score means. */
  scoredFrames: number;
  scoreSums: FaceScores;
  expressions: Record<string, number>;
  latencySum: number;
  latencyCount: number;
  /**
   * Tracks seen this second, by track id: frames, and the last identity the track had
   * (`s` subject, `n` name; null not identified). Written to the KV state, where
   * state-pseudonyms.ts swaps `s` for the subject's ref and drops `n`, as in votes.
   * Absent in states written before attendance.
   */
  people?: Record<string, SecondPerson>;
}

export interface SecondPerson {
  f: number;
  s: string | null;
  n: string | null;
}

/**
 * Most tracks one second remembers: a frame has a few dozen faces at most, and a crowd
 * beyond that is listed by its busiest tracks anyway (the event keeps METRICS_PEOPLE_MAX).
 */
const PEOPLE_TRACKED_MAX = METRICS_PEOPLE_MAX * 2;

function emptyAccumulator(second: number): MetricsAccumulator {
  return {
    second,
    frames: 0,
    facesSum: 0,
    principalPresentFrames: 0,
    scoredFrames: 0,
    scoreSums: { eyeContact: 0, engagement: 0, positivity: 0, postureStability: 0, confidence: 0 },
    expressions: {},
    latencySum: 0,
    latencyCount: 0,
    people: {},
  };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

function addFrame(acc: MetricsAccumulator, facts: FrameFacts, latencyMs: number | null): MetricsAccumulator {
  const next: MetricsAccumulator = {
    ...acc,
    frames: acc.frames + 1,
    facesSum: acc.facesSum + facts.faces.length,
    principalPresentFrames: acc.principalPresentFrames + (facts.principal.status === 'present' ? 1 : 0),
    scoreSums: { ...acc.scoreSums },
    expressions: { ...acc.expressions },
    people: addPeople(acc.people ?? {}, facts),
  };
  if (latencyMs !== null && Number.isFinite(latencyMs) && latencyMs >= 0) {
    next.latencySum += latencyMs;
    next.latencyCount += 1;
  }
  // Scores and expressions describe the person the session is about, not bystanders.
  const face = subjectFace(facts);
  if (face) {
    next.scoredFrames += 1;
    for (const k of SCORE_KEYS) next.scoreSums[k] += face.scores[k];
    const label = face.face.expression?.label;
    if (label) next.expressions[label] = (next.expressions[label] ?? 0) + 1;
  }
  return next;
}

/**
 * Counts the frame for each track in view. An identity, once seen in the second, is kept
 * over a later null (a vote window refilling): who the track was is what attendance needs.
 */
function addPeople(people: Record<string, SecondPerson>, facts: FrameFacts): Record<string, SecondPerson> {
  const next = { ...people };
  for (const f of facts.faces) {
    const prev = next[f.trackId];
    if (!prev && Object.keys(next).length >= PEOPLE_TRACKED_MAX) continue;
    const id = f.identity?.subjectId ? f.identity : null;
    next[f.trackId] = { f: (prev?.f ?? 0) + 1, s: id?.subjectId ?? prev?.s ?? null, n: id ? id.name : (prev?.n ?? null) };
  }
  return next;
}

/** The listed people of a second: most frames first, then by track id, at most the cap. */
export function peopleOfSecond(people: Record<string, SecondPerson>): Pick<SecondMetrics, 'people' | 'peopleLeftOut'> {
  const all = Object.entries(people)
    .filter(([, p]) => p.f > 0)
    .sort(([a, x], [b, y]) => y.f - x.f || (a < b ? -1 : a > b ? 1 : 0));
  const listed = all.slice(0, METRICS_PEOPLE_MAX).map(([track, p]) => ({ track, subjectId: p.s, name: p.n, frames: p.f }));
  const leftOut = all.length - listed.length;
  return { people: listed, ...(leftOut > 0 ? { peopleLeftOut: leftOut } : {}) };
}

/** The event body of a finished second. */
export function flushMetrics(acc: MetricsAccumulator): SecondMetrics {
  const n = Math.max(1, acc.frames);
  const mean = (sum: number): number | null => (acc.scoredFrames === 0 ? null : round(sum / acc.scoredFrames, 1));
  return {
    second: acc.second,
    frames: acc.frames,
    facesMean: round(acc.facesSum / n, 2),
    principalPresent: round(acc.principalPresentFrames / n, 3),
    scores: {
      eyeContact: mean(acc.scoreSums.eyeContact),
      engagement: mean(acc.scoreSums.engagement),
      positivity: mean(acc.scoreSums.positivity),
      postureStability: mean(acc.scoreSums.postureStability),
      confidence: mean(acc.scoreSums.confidence),
    },
    expressions: { ...acc.expressions },
    latencyMs: acc.latencyCount === 0 ? null : round(acc.latencySum / acc.latencyCount, 1),
    ...peopleOfSecond(acc.people ?? {}),
  };
}

/**
 * Adds one frame. A frame of another second than the accumulator's flushes the
 * accumulator and starts a new one with that frame. "Another" rather than "later": the
 * caller already drops late frames, so a second going backwards means the camera's clock
 * was reset, and holding the old second open until the clock caught up would lose it.
 */
export function accumulateMetrics(
  prev: MetricsAccumulator | null,
  facts: FrameFacts,
  latencyMs: number | null,
): { acc: MetricsAccumulator; flushed: SecondMetrics | null } {
  const second = Math.floor(facts.captureMs / 1000);
  if (prev && prev.second === second) return { acc: addFrame(prev, facts, latencyMs), flushed: null };
  const flushed = prev && prev.frames > 0 ? flushMetrics(prev) : null;
  return { acc: addFrame(emptyAccumulator(second), facts, latencyMs), flushed };
}
