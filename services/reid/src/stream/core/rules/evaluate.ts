import { ALERT_KINDS, type AlertKind, type Person, type ResolvedRules, type Severity } from '@lookout/contracts';
import type { FrameFacts } from '../types.js';
import { RULE_SPECS, type Detail, type Hit, type RuleSpec, type Threshold, type WindowedSpec } from './conditions.js';
import { evidence, pushSample, type WindowState } from './window.js';

/**
 * Proctoring alert rules as episodes. Every rule is the same machine: a condition that
 * must hold for N consecutive frames (or fresh results, or milliseconds) to open an
 * episode, and be false for `closeFrames` frames to close it. The per-rule conditions are
 * in conditions.ts. A windowed rule (spoof_suspected) opens instead on a share of fresh
 * results of one track over a sliding window (window.ts). Pure and deterministic: the state is plain JSON kept in the
 * stream's KV entry, and episode ids come from the state, so two replicas that step the
 * same state with the same frame publish the same ids (JetStream dedups them).
 */

export type { Detail, Observation, RuleSpec } from './conditions.js';
export { subjectFace } from './conditions.js';

/** The current streak of frames where the condition held (same key). */
export interface RunState {
  count: number;
  key: string | null;
  startMs: number;
  startSeq: number;
  lastMs: number;
  lastSeq: number;
  detail: Detail;
}

/** An open episode, with everything its close event repeats. */
export interface EpisodeState {
  id: string;
  severity: Severity;
  key: string | null;
  startMs: number;
  startSeq: number;
  /** Last frame where the condition held: the close event's end. */
  lastMs: number;
  lastSeq: number;
  /** Consecutive frames the condition has been false since lastSeq. */
  falseFrames: number;
  detail: Detail;
}

export interface KindState {
  run: RunState | null;
  episode: EpisodeState | null;
  /** Windowed rules only: the current track's recent fresh results. */
  window?: WindowState;
}

export interface RulesState {
  /** Schema version of this JSON. */
  v: 1;
  /** Partial so that an entry written before a rule existed still reads. */
  kinds: Partial<Record<AlertKind, KindState>>;
}

export interface AlertTransition {
  id: string;
  kind: AlertKind;
  severity: Severity;
  state: 'open' | 'closed';
  startMs: number;
  startSeq: number;
  endMs?: number;
  endSeq?: number;
  message: string;
  from?: Person;
  to?: Person;
  faces?: number;
  value?: number;
  trackId?: string;
}

interface Step {
  state: KindState;
  transitions: AlertTransition[];
}
interface StreamRef {
  room: string;
  stream: string;
}
interface FrameRef {
  seq: number;
  ms: number;
}

const EMPTY: KindState = { run: null, episode: null };

export function initialRulesState(): RulesState {
  const kinds: Partial<Record<AlertKind, KindState>> = {};
  for (const kind of ALERT_KINDS) kinds[kind] = { run: null, episode: null };
  return { v: 1, kinds };
}

export function episodeId(stream: StreamRef, kind: AlertKind, startSeq: number): string {
  return `${stream.room}.${stream.stream}.${kind}.${startSeq}`;
}

/** The event for an episode; a close event ends at the last frame where the condition held. */
function transition(kind: AlertKind, ep: EpisodeState, state: 'open' | 'closed', note?: string): AlertTransition {
  const spec = RULE_SPECS[kind];
  const message = spec.message(ep.detail, ep);
  const t: AlertTransition = {
    id: ep.id,
    kind,
    severity: ep.severity,
    state,
    startMs: ep.startMs,
    startSeq: ep.startSeq,
    message: note ? `${message} (${note})` : message,
  };
  if (state === 'closed') Object.assign(t, { endMs: ep.lastMs, endSeq: ep.lastSeq });
  const { from, to, faces, value, trackId } = ep.detail;
  Object.assign(t, definedOnly({ from, to, faces, value, trackId }));
  if (spec.durationValue) t.value = ep.lastMs - ep.startMs;
  return t;
}

/** Drops undefined fields: state and events must look the same after a JSON round trip. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function merge(spec: RuleSpec, a: Detail, b: Detail): Detail {
  return spec.merge ? spec.merge(a, b) : a;
}

function extendRun(run: RunState | null, hit: Hit, at: FrameRef, spec: RuleSpec): RunState {
  if (run && run.key === hit.key) {
    return { ...run, count: run.count + 1, lastMs: at.ms, lastSeq: at.seq, detail: merge(spec, run.detail, hit.detail) };
  }
  // A new key (another replacement person) is a new streak.
  return { count: 1, key: hit.key, startMs: at.ms, startSeq: at.seq, lastMs: at.ms, lastSeq: at.seq, detail: hit.detail };
}

function reached(run: RunState, threshold: Threshold): boolean {
  return 'ms' in threshold ? run.lastMs - run.startMs >= threshold.ms : run.count >= threshold.frames;
}

/** One frame where the episode's condition did not hold; closes it after `closeFrames`. */
function missEpisode(kind: AlertKind, ep: EpisodeState, closeFrames: number): { episode: EpisodeState | null; closed: AlertTransition[] } {
  const falseFrames = ep.falseFrames + 1;
  if (falseFrames >= closeFrames) return { episode: null, closed: [transition(kind, ep, 'closed')] };
  return { episode: { ...ep, falseFrames }, closed: [] };
}

function clearFrame(kind: AlertKind, ks: KindState, closeFrames: number): Step {
  if (!ks.episode) return { state: { run: null, episode: null }, transitions: [] };
  const m = missEpisode(kind, ks.episode, closeFrames);
  return { state: { run: null, episode: m.episode }, transitions: m.closed };
}

function openEpisode(kind: AlertKind, run: RunState, severity: Severity, stream: StreamRef): EpisodeState {
  // The episode starts where the streak started, not on the frame that crossed the threshold.
  const { key, startMs, startSeq, lastMs, lastSeq, detail } = run;
  return { id: episodeId(stream, kind, startSeq), severity, key, startMs, startSeq, lastMs, lastSeq, falseFrames: 0, detail };
}

function hitFrame(kind: AlertKind, ks: KindState, hit: Hit, at: FrameRef, rules: ResolvedRules, stream: StreamRef): Step {
  const spec = RULE_SPECS[kind];
  const run = extendRun(ks.run, hit, at, spec);
  const transitions: AlertTransition[] = [];
  let episode = ks.episode;
  if (episode && episode.key === hit.key) {
    const detail = merge(spec, episode.detail, hit.detail);
    episode = { ...episode, lastMs: at.ms, lastSeq: at.seq, falseFrames: 0, detail };
  } else if (episode) {
    // Held, but for someone else: for this episode that is a frame without its condition.
    const m = missEpisode(kind, episode, rules.closeFrames);
    episode = m.episode;
    transitions.push(...m.closed);
  }
  if (!episode && reached(run, spec.threshold(rules))) {
    episode = openEpisode(kind, run, rules[kind].severity, stream);
    transitions.push(transition(kind, episode, 'open'));
  }
  return { state: { run, episode }, transitions };
}

/**
 * A windowed rule's frame. A low result of the episode's track extends it; a good one
 * closes it only once the window no longer holds the evidence (`closeFrames` such frames),
 * so a few good scores inside an attack do not split it. A frame without the subject, or
 * another track's result, is a frame without the condition, as for the other rules.
 */
function stepWindowed(kind: AlertKind, spec: WindowedSpec, ks: KindState, facts: FrameFacts, rules: ResolvedRules, stream: StreamRef): Step {
  const s = spec.sample(facts, rules);
  if (s === 'unknown') return { state: ks, transitions: [] };
  const kept = ks.window ? { window: ks.window } : {};
  if (s === 'none') {
    // The window survives a missed detection: the tracker keeps the track id when the face comes back.
    const step = clearFrame(kind, ks, rules.closeFrames);
    return { state: { ...step.state, ...kept }, transitions: step.transitions };
  }
  const t = spec.threshold(rules);
  const sample = { ms: facts.captureMs, seq: facts.seq, low: s.low, ...(s.detail.value !== undefined ? { value: s.detail.value } : {}) };
  const window = pushSample(ks.window, s.key, sample, t.windowMs);
  const ev = evidence(window, t);
  const transitions: AlertTransition[] = [];
  let episode = ks.episode;
  if (episode && episode.key === s.key && (s.low || ev.held)) {
    episode = s.low ? { ...episode, lastMs: facts.captureMs, lastSeq: facts.seq, falseFrames: 0, detail: merge(RULE_SPECS[kind], episode.detail, s.detail) } : episode;
  } else if (episode) {
    const m = missEpisode(kind, episode, rules.closeFrames);
    episode = m.episode;
    transitions.push(...m.closed);
  }
  if (!episode && ev.held && ev.firstLow) {
    const first = ev.firstLow;
    const detail: Detail = { ...s.detail, ...(ev.lowest !== undefined ? { value: ev.lowest } : {}) };
    episode = { id: episodeId(stream, kind, first.seq), severity: rules[kind].severity, key: s.key, startMs: first.ms, startSeq: first.seq, lastMs: facts.captureMs, lastSeq: facts.seq, falseFrames: 0, detail };
    // Opened on a good result (the share still holds): the episode's last low result is its end so far.
    if (!s.low) {
      const lastLow = [...window.samples].reverse().find((x) => x.low)!;
      episode = { ...episode, lastMs: lastLow.ms, lastSeq: lastLow.seq };
    }
    transitions.push(transition(kind, episode, 'open'));
  }
  return { state: { run: null, episode, window }, transitions };
}

function stepKind(kind: AlertKind, ks: KindState, facts: FrameFacts, rules: ResolvedRules, stream: StreamRef): Step {
  if (!rules[kind].enabled) {
    // A rule switched off mid-episode ends that episode now and forgets its counters.
    const transitions = ks.episode ? [transition(kind, ks.episode, 'closed', 'rule disabled')] : [];
    return { state: { run: null, episode: null }, transitions };
  }
  const windowed = RULE_SPECS[kind].windowed;
  if (windowed) return stepWindowed(kind, windowed, ks, facts, rules, stream);
  const obs = RULE_SPECS[kind].observe(facts, rules);
  if (obs === 'unknown') return { state: ks, transitions: [] };
  if (obs === 'clear') return clearFrame(kind, ks, rules.closeFrames);
  return hitFrame(kind, ks, obs, { seq: facts.seq, ms: facts.captureMs }, rules, stream);
}

/** Steps every rule by one frame. Frames must arrive in increasing seq (the caller drops late ones). */
export function evaluateRules(
  prev: RulesState,
  facts: FrameFacts,
  rules: ResolvedRules,
  stream: StreamRef,
): { state: RulesState; transitions: AlertTransition[] } {
  const kinds: Partial<Record<AlertKind, KindState>> = {};
  const transitions: AlertTransition[] = [];
  for (const kind of ALERT_KINDS) {
    const step = stepKind(kind, prev.kinds[kind] ?? EMPTY, facts, rules, stream);
    kinds[kind] = step.state;
    transitions.push(...step.transitions);
  }
  return { state: { v: 1, kinds }, transitions };
}

/**
 * Closes every open episode (stream or session ended) and starts the counters afresh.
 * An episode ends at its last frame where the condition held, never after `at`.
 */
export function closeAllEpisodes(
  prev: RulesState,
  at: { seq: number; captureMs: number },
  reason: string,
): { state: RulesState; transitions: AlertTransition[] } {
  const transitions: AlertTransition[] = [];
  for (const kind of ALERT_KINDS) {
    const ep = prev.kinds[kind]?.episode;
    if (!ep) continue;
    const lastSeq = Math.max(ep.startSeq, Math.min(ep.lastSeq, at.seq));
    const lastMs = Math.max(ep.startMs, Math.min(ep.lastMs, at.captureMs));
    transitions.push(transition(kind, { ...ep, lastSeq, lastMs }, 'closed', reason));
  }
  return { state: initialRulesState(), transitions };
}
