import type { FaceScores, ResolvedRules, TextInFrame } from '@lookout/contracts';
import { accumulateMetrics, flushMetrics, type MetricsAccumulator } from './metrics.js';
import { closeAllEpisodes, evaluateRules, initialRulesState, type AlertTransition, type RulesState } from './rules/evaluate.js';
import { scoreFace } from './scores.js';
import { initialTrackerState, stepTracker, type TrackerConfig } from './tracker.js';
import type { FrameFacts, ObservedFace, PrincipalView, TrackedFace, TrackerState } from './types.js';

/** Everything reid remembers about one stream: the value of its KV entry. */
export interface StreamState {
  v: 1;
  lastSeq: number;
  lastCaptureMs: number;
  sessionId: string | null;
  tracker: TrackerState;
  rules: RulesState;
  metrics: MetricsAccumulator | null;
}

export interface FrameInput {
  room: string;
  stream: string;
  seq: number;
  captureMs: number;
  faces: ObservedFace[];
  text?: TextInFrame;
  sessionId: string | null;
  expected: { subjectId: string; name: string } | null;
  galleryEmpty: boolean;
  rules: ResolvedRules;
  tracker: TrackerConfig;
  latencyMs: number | null;
}

export type TaggedTransition = AlertTransition & { sessionId: string | null };
export type FlushedMetrics = NonNullable<ReturnType<typeof accumulateMetrics>['flushed']> & { sessionId: string | null };

export interface FrameOutcome {
  state: StreamState;
  faces: Array<TrackedFace & { scores: FaceScores }>;
  principal: PrincipalView;
  transitions: TaggedTransition[];
  metrics: FlushedMetrics[];
}

export function initialStreamState(sessionId: string | null): StreamState {
  return { v: 1, lastSeq: -1, lastCaptureMs: 0, sessionId, tracker: initialTrackerState(), rules: initialRulesState(), metrics: null };
}

/** The tracks a frame of this session is stepped against: a new session starts clean. */
export function trackerFor(prev: StreamState | null, sessionId: string | null): TrackerState {
  return prev && prev.sessionId === sessionId ? prev.tracker : initialTrackerState();
}

/**
 * One frame through the per-stream logic: tracks → scores → rules → per-second metrics.
 * Pure, so two replicas racing on the same state compute the same result and the
 * compare-and-set decides whose is kept. A new session starts from a clean state, after
 * closing the previous session's open episodes.
 */
export function advance(prev: StreamState | null, input: FrameInput): FrameOutcome {
  const transitions: TaggedTransition[] = [];
  const metrics: FlushedMetrics[] = [];
  let base = prev ?? initialStreamState(input.sessionId);
  if (base.sessionId !== input.sessionId) {
    const closed = closeAllEpisodes(base.rules, { seq: base.lastSeq, captureMs: base.lastCaptureMs }, 'session changed');
    transitions.push(...closed.transitions.map((t) => ({ ...t, sessionId: base.sessionId })));
    if (base.metrics) metrics.push({ ...flushMetrics(base.metrics), sessionId: base.sessionId });
    base = initialStreamState(input.sessionId);
  }
  const tracked = stepTracker(base.tracker, { seq: input.seq, captureMs: input.captureMs, faces: input.faces, expected: input.expected }, input.tracker);
  const look = { yawDeg: input.rules.looking_away.yawDeg, pitchDeg: input.rules.looking_away.pitchDeg };
  const faces = tracked.faces.map((f) => ({ ...f, scores: scoreFace(f.face, f.previous, look) }));
  const facts: FrameFacts = {
    seq: input.seq,
    captureMs: input.captureMs,
    faces: faces.map((f) => ({ trackId: f.trackId, identity: f.identity, isPrincipal: f.isPrincipal, face: f.face, scores: f.scores })),
    principal: tracked.principal,
    galleryEmpty: input.galleryEmpty,
    ...(input.text ? { text: input.text } : {}),
  };
  const ruled = evaluateRules(base.rules, facts, input.rules, { room: input.room, stream: input.stream });
  transitions.push(...ruled.transitions.map((t) => ({ ...t, sessionId: input.sessionId })));
  const acc = accumulateMetrics(base.metrics, facts, input.latencyMs);
  if (acc.flushed) metrics.push({ ...acc.flushed, sessionId: input.sessionId });
  const state: StreamState = {
    v: 1,
    lastSeq: input.seq,
    lastCaptureMs: input.captureMs,
    sessionId: input.sessionId,
    tracker: tracked.state,
    rules: ruled.state,
    metrics: acc.acc,
  };
  return { state, faces, principal: tracked.principal, transitions, metrics };
}

/**
 * The stream stopped (its producer closed, or the session ended): close every open
 * episode at the last frame seen and flush the current second of metrics. The frame
 * order (lastSeq, lastCaptureMs) is kept, so a late frame cannot reopen anything.
 */
export function endStream(prev: StreamState, reason: string): Omit<FrameOutcome, 'faces' | 'principal'> {
  const closed = closeAllEpisodes(prev.rules, { seq: prev.lastSeq, captureMs: prev.lastCaptureMs }, reason);
  const metrics: FlushedMetrics[] = prev.metrics ? [{ ...flushMetrics(prev.metrics), sessionId: prev.sessionId }] : [];
  const fresh = initialStreamState(prev.sessionId);
  return {
    // Track numbering goes on: the session's attendance tells its tracks apart by id, and
    // a publisher that comes back within the session must not reuse t0 for someone else.
    state: { ...fresh, tracker: { ...fresh.tracker, nextTrack: prev.tracker.nextTrack }, lastSeq: prev.lastSeq, lastCaptureMs: prev.lastCaptureMs },
    transitions: closed.transitions.map((t) => ({ ...t, sessionId: prev.sessionId })),
    metrics,
  };
}

/**
 * Whether a frame comes after the state. A frame numbered at or below the last one is late
 * unless it was captured clearly later: then the source restarted its numbering (a new
 * tap after a reconnect), and the stream goes on rather than ignoring it until the state
 * expires.
 */
export function isLate(state: StreamState, seq: number, captureMs: number, restartGapMs = 1000): boolean {
  return seq <= state.lastSeq && captureMs <= state.lastCaptureMs + restartGapMs;
}
