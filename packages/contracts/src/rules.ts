import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { validator } from './validation.js';

/**
 * Alert rules of reid. Every rule opens an episode when its condition has held for
 * `frames` consecutive analysed frames (or `ms`, where the rule is about time) and closes
 * it when the condition has been false for `closeFrames` frames. Thresholds are set per
 * room (room config) and per session; anything unset falls back to the defaults below.
 */
export const ALERT_KINDS = [
  'identity_changed',
  'unknown_person',
  'no_face',
  'multiple_faces',
  'looking_away',
  'eyes_closed',
  'low_engagement',
  'spoof_suspected',
  'text_visible',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));

const Frames = (description: string) => Type.Integer({ minimum: 1, maximum: 10_000, description });
const Enabled = Type.Boolean({ description: 'false turns the rule off' });
const Degrees = (description: string) => Type.Number({ minimum: 0, maximum: 90, description });
const Rule = <P extends Record<string, TSchema>>(props: P) =>
  Type.Partial(Type.Object({ enabled: Enabled, severity: Severity, ...props }, { additionalProperties: false }));

export const RuleThresholds = Type.Partial(
  Type.Object(
    {
      identity_changed: Rule({ frames: Frames('Frames the principal must be replaced by the same other person') }),
      unknown_person: Rule({ frames: Frames('Frames a face must stay unidentified (gallery not empty)') }),
      no_face: Rule({ frames: Frames('Consecutive frames without a face') }),
      multiple_faces: Rule({ frames: Frames('Consecutive frames with more than one face') }),
      looking_away: Rule({
        yawDeg: Degrees('|yaw| above this is looking away'),
        pitchDeg: Degrees('|pitch| above this is looking away'),
        frames: Frames('Consecutive frames looking away'),
      }),
      eyes_closed: Rule({ ms: Type.Integer({ minimum: 1, maximum: 600_000, description: 'Both eyes closed for this long' }) }),
      low_engagement: Rule({
        below: Type.Number({ minimum: 0, maximum: 100, description: 'Engagement score under this is low' }),
        frames: Frames('Consecutive frames with low engagement'),
      }),
      spoof_suspected: Rule({
        frames: Frames('Fresh liveness results of one track the window must hold before it can open'),
        windowMs: Type.Integer({ minimum: 1000, maximum: 600_000, description: 'Sliding window of fresh liveness results (per track) the share is taken over' }),
        minShare: Type.Number({ minimum: 0, maximum: 1, description: 'Share of the window\'s results saying "not live" at or above which it counts as spoof evidence' }),
        minMs: Type.Integer({ minimum: 0, maximum: 600_000, description: 'The window\'s results must span at least this long (sustained, not a burst)' }),
      }),
      text_visible: Rule({
        minScore: Type.Number({ minimum: 0, maximum: 1, description: 'Text score at or above this counts' }),
        frames: Frames('Consecutive fresh text results with text'),
      }),
      closeFrames: Type.Integer({ minimum: 1, maximum: 10_000, description: 'Frames a condition must be false before its episode closes' }),
    },
    { additionalProperties: false },
  ),
  { $id: 'RuleThresholds' },
);
export type RuleThresholds = Static<typeof RuleThresholds>;
export const ruleThresholds = validator('rule thresholds', RuleThresholds);

export interface ResolvedRule {
  enabled: boolean;
  severity: Severity;
  frames: number;
}

/** Fully resolved thresholds: what the rule engine reads. */
export interface ResolvedRules {
  identity_changed: ResolvedRule;
  unknown_person: ResolvedRule;
  no_face: ResolvedRule;
  multiple_faces: ResolvedRule;
  looking_away: ResolvedRule & { yawDeg: number; pitchDeg: number };
  eyes_closed: Omit<ResolvedRule, 'frames'> & { ms: number };
  low_engagement: ResolvedRule & { below: number };
  /** Windowed, per track (conditions.ts): one low score, or a few, is not evidence. */
  spoof_suspected: ResolvedRule & { windowMs: number; minShare: number; minMs: number };
  text_visible: ResolvedRule & { minScore: number };
  closeFrames: number;
}

export const DEFAULT_RULES: ResolvedRules = {
  identity_changed: { enabled: true, severity: 'critical', frames: 2 },
  unknown_person: { enabled: true, severity: 'warning', frames: 5 },
  no_face: { enabled: true, severity: 'warning', frames: 3 },
  multiple_faces: { enabled: true, severity: 'warning', frames: 3 },
  looking_away: { enabled: true, severity: 'info', frames: 5, yawDeg: 30, pitchDeg: 25 },
  eyes_closed: { enabled: true, severity: 'warning', ms: 1000 },
  low_engagement: { enabled: true, severity: 'info', frames: 10, below: 40 },
  // A false spoof alert on a real person costs a proctor's trust, and a real presentation
  // attack has to be held up for the whole exam: ask for 8 s of mostly-"not live" results
  // (at the detector's 1/s cadence, ≥ 6 results, ≥ 70% low) on one track. Measured in
  // docs/detector.md (liveness false alarms).
  spoof_suspected: { enabled: true, severity: 'critical', frames: 6, windowMs: 10_000, minShare: 0.7, minMs: 8000 },
  text_visible: { enabled: true, severity: 'info', frames: 2, minScore: 0.6 },
  closeFrames: 3,
};

/** Applies overrides in order (room, then session) over the defaults. */
export function resolveRules(...layers: Array<RuleThresholds | undefined>): ResolvedRules {
  const out = structuredClone(DEFAULT_RULES) as unknown as Record<string, unknown>;
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      out[k] = typeof v === 'object' && v !== null ? { ...(out[k] as object), ...v } : v;
    }
  }
  return out as unknown as ResolvedRules;
}

/** Recognition events (access control, attendance). */
export const RecognitionSettings = Type.Partial(
  Type.Object(
    {
      enabled: Type.Boolean(),
      cooldownMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'At most one event per identity per room within this time, across all replicas' }),
      rejectUnknown: Type.Boolean({ description: 'Also emit REJECT events for faces that match nobody' }),
    },
    { additionalProperties: false },
  ),
  { $id: 'RecognitionSettings' },
);
export type RecognitionSettings = Static<typeof RecognitionSettings>;
