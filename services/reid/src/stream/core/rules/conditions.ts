import type { AlertKind, Person, ResolvedRules } from '@lookout/contracts';
import type { FrameFacts } from '../types.js';
import type { WindowThreshold } from './window.js';

/**
 * What each alert rule looks at in one frame. The episode mechanics (counting, opening,
 * hysteresis, closing) live in ../rules.ts and are the same for every rule; this table is
 * only "does the condition hold in this frame, and what does the alert say about it".
 */

/** What an alert event carries besides the episode bounds. JSON: absent, never undefined. */
export interface Detail {
  from?: Person;
  to?: Person;
  faces?: number;
  value?: number;
  trackId?: string;
  /** looking_away: which angle `value` is. */
  axis?: 'yaw' | 'pitch';
}

export interface Hit {
  /** Identity of the condition: a change of key restarts the count (identity_changed). */
  key: string | null;
  detail: Detail;
}

/**
 * 'unknown': the input is missing or stale — the frame neither counts nor resets nor
 * moves an open episode towards closing. 'clear': the condition is false.
 */
export type Observation = 'unknown' | 'clear' | Hit;

export type Threshold = { frames: number } | { ms: number };

/**
 * One fresh result for a windowed rule (window.ts): whose it is (`key`, a track) and
 * whether the condition held. 'unknown': no fresh result this frame (no change);
 * 'none': no subject in view (a frame without the condition for an open episode).
 */
export type Sample = 'unknown' | 'none' | { key: string; low: boolean; detail: Detail };

/** A rule judged on a share of fresh results over a sliding window instead of a streak. */
export interface WindowedSpec {
  sample(facts: FrameFacts, rules: ResolvedRules): Sample;
  threshold(rules: ResolvedRules): WindowThreshold;
}

export interface RuleSpec {
  observe(facts: FrameFacts, rules: ResolvedRules): Observation;
  threshold(rules: ResolvedRules): Threshold;
  /** Folds a new frame's detail into the episode's (default: keep the first). */
  merge?(episode: Detail, frame: Detail): Detail;
  message(detail: Detail, span: { startMs: number; lastMs: number }): string;
  /** The event's `value` is how long the condition has held, in ms (time-based rules). */
  durationValue?: boolean;
  /** Set: the rule opens on windowed evidence (evaluate.ts) and `observe`/`threshold` are unused. */
  windowed?: WindowedSpec;
}

type Subject = FrameFacts['faces'][number];

/** The face the per-person rules judge: the principal's, or the only face when none is marked. */
export function subjectFace(facts: FrameFacts): Subject | undefined {
  return facts.faces.find((f) => f.isPrincipal) ?? (facts.faces.length === 1 ? facts.faces[0] : undefined);
}

const hit = (detail: Detail = {}, key: string | null = null): Hit => ({ key, detail });
const when = (cond: boolean, detail?: Detail): Observation => (cond ? hit(detail) : 'clear');
const label = (p: Person | undefined): string => p?.name ?? 'an unknown person';
const deg = (v: number | undefined): string => `${Math.round(v ?? 0)}°`;

/** Strips undefined fields so a Person survives a JSON round trip unchanged. */
function person(subjectId: string | null, name: string | null, trackId?: string | null): Person {
  const p: Person = { subjectId, name };
  if (trackId) p.trackId = trackId;
  return p;
}

/** Keeps the larger |value| (the peak of the episode), with its axis. */
function peak(a: Detail, b: Detail): Detail {
  return Math.abs(b.value ?? 0) > Math.abs(a.value ?? 0) ? { ...a, value: b.value, ...(b.axis ? { axis: b.axis } : {}) } : a;
}
/** Keeps the smaller value (the worst engagement / liveness of the episode). */
const lowest = (a: Detail, b: Detail): Detail => ((b.value ?? Infinity) < (a.value ?? Infinity) ? { ...a, value: b.value } : a);

function observeReplaced(facts: FrameFacts): Observation {
  const view = facts.principal;
  if (view.status !== 'replaced') return 'clear';
  const to = view.replacement ? person(view.replacement.subjectId, view.replacement.name, view.replacement.trackId) : person(null, null);
  const from = person(view.principal?.subjectId ?? null, view.principal?.name ?? null, view.principal?.trackId);
  // An unidentified replacement is told apart by its track.
  const key = to.subjectId !== null ? `s:${to.subjectId}` : `t:${to.trackId ?? ''}`;
  return hit({ from, to, ...(to.trackId ? { trackId: to.trackId } : {}) }, key);
}

function observeUnknown(facts: FrameFacts): Observation {
  if (facts.galleryEmpty) return 'clear';
  const face = facts.faces.find((f) => f.identity !== null && f.identity.subjectId === null);
  return when(face !== undefined, face ? { trackId: face.trackId } : undefined);
}

function observeLookingAway(facts: FrameFacts, rules: ResolvedRules): Observation {
  const face = subjectFace(facts);
  if (!face) return 'clear';
  const pose = face.face.pose;
  if (!pose) return 'unknown';
  const { yawDeg, pitchDeg } = rules.looking_away;
  const away = Math.abs(pose.yaw) > yawDeg || Math.abs(pose.pitch) > pitchDeg;
  // Report the angle that is furthest past its own limit.
  const yawWorse = Math.abs(pose.yaw) / Math.max(yawDeg, 1e-9) >= Math.abs(pose.pitch) / Math.max(pitchDeg, 1e-9);
  return when(away, yawWorse ? { value: pose.yaw, axis: 'yaw' } : { value: pose.pitch, axis: 'pitch' });
}

function observeEyesClosed(facts: FrameFacts): Observation {
  const face = subjectFace(facts);
  if (!face) return 'clear';
  if (!face.face.eyes) return 'unknown';
  return when(face.face.eyes.bothClosed, { trackId: face.trackId });
}

function observeLowEngagement(facts: FrameFacts, rules: ResolvedRules): Observation {
  const face = subjectFace(facts);
  if (!face) return 'clear';
  const value = face.scores.engagement;
  return when(value < rules.low_engagement.below, { value, trackId: face.trackId });
}

function sampleSpoof(facts: FrameFacts): Sample {
  const face = subjectFace(facts);
  if (!face) return 'none';
  const live = face.face.liveness;
  // A repeated (stale) result is the same evidence again: it must not count twice.
  if (!live || live.ageMs !== 0) return 'unknown';
  // Per track: a real person's good scores must not dilute an impostor's photo, nor the other way round.
  return { key: `t:${face.trackId}`, low: !live.live, detail: { value: live.score, trackId: face.trackId } };
}

const spoofWindow = (r: ResolvedRules): WindowThreshold => {
  const s = r.spoof_suspected;
  return { windowMs: s.windowMs, minResults: s.frames, minMs: s.minMs, minShare: s.minShare };
};

function observeText(facts: FrameFacts, rules: ResolvedRules): Observation {
  const text = facts.text;
  if (!text || text.ageMs !== 0) return 'unknown';
  return when(text.score >= rules.text_visible.minScore, { value: text.score });
}

const seconds = (span: { startMs: number; lastMs: number }): string => `${((span.lastMs - span.startMs) / 1000).toFixed(1)} s`;

export const RULE_SPECS: Record<AlertKind, RuleSpec> = {
  identity_changed: {
    observe: observeReplaced,
    threshold: (r) => ({ frames: r.identity_changed.frames }),
    message: (d) => `Identity changed: ${label(d.from)} → ${label(d.to)}`,
  },
  unknown_person: {
    observe: observeUnknown,
    threshold: (r) => ({ frames: r.unknown_person.frames }),
    message: () => 'An unknown person is in view',
  },
  no_face: {
    observe: (facts) => when(facts.faces.length === 0),
    threshold: (r) => ({ frames: r.no_face.frames }),
    message: () => 'No face in view',
  },
  multiple_faces: {
    observe: (facts) => when(facts.faces.length > 1, { faces: facts.faces.length }),
    threshold: (r) => ({ frames: r.multiple_faces.frames }),
    merge: (a, b) => ({ ...a, faces: Math.max(a.faces ?? 0, b.faces ?? 0) }),
    message: (d) => `Multiple faces in view (${d.faces ?? 2})`,
  },
  looking_away: {
    observe: observeLookingAway,
    threshold: (r) => ({ frames: r.looking_away.frames }),
    merge: peak,
    message: (d) => `Looking away (${d.axis ?? 'yaw'} ${deg(d.value)})`,
  },
  eyes_closed: {
    observe: observeEyesClosed,
    threshold: (r) => ({ ms: r.eyes_closed.ms }),
    durationValue: true,
    message: (_d, span) => `Eyes closed for ${seconds(span)}`,
  },
  low_engagement: {
    observe: observeLowEngagement,
    threshold: (r) => ({ frames: r.low_engagement.frames }),
    merge: lowest,
    message: (d) => `Low engagement (${Math.round(d.value ?? 0)})`,
  },
  spoof_suspected: {
    windowed: { sample: sampleSpoof, threshold: spoofWindow },
    observe: () => 'unknown',
    threshold: (r) => ({ frames: r.spoof_suspected.frames }),
    merge: lowest,
    message: (d) => `Possible spoof: liveness ${(d.value ?? 0).toFixed(2)}`,
  },
  text_visible: {
    observe: observeText,
    threshold: (r) => ({ frames: r.text_visible.frames }),
    merge: peak,
    message: (d) => `Text visible (score ${(d.value ?? 0).toFixed(2)})`,
  },
};
