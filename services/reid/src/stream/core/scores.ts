import type { Box, DetectedFace, FaceScores } from '@lookout/contracts';
import type { TrackState } from './types.js';

/**
 * Per-frame scores of one face, 0–100 with one decimal. Every score is a simple, monotonic
 * function of what the detector saw, so a dashboard reader can predict it: turning the
 * head further never raises eye contact, moving more never raises posture stability, and
 * so on. Missing analyzer output (pose, eyes, expression off) falls back to a documented
 * neutral value instead of pretending to know.
 */

type Face = Omit<DetectedFace, 'crop'>;
export interface LookLimits {
  yawDeg: number;
  pitchDeg: number;
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
/** Scores carry one decimal: enough for charts, short in JSON. */
const toScore = (unit: number): number => Math.round(clamp01(unit) * 1000) / 10;

/**
 * 1 looking straight on, ½ exactly at the limit (where looking_away starts counting), 0 at
 * twice the limit and beyond. A raised cosine: smooth at both ends, so small head jitter
 * around the frontal pose does not make the score twitch.
 */
export function angleFactor(angleDeg: number, limitDeg: number): number {
  if (limitDeg <= 0) return angleDeg === 0 ? 1 : 0;
  const r = Math.min(2, Math.abs(angleDeg) / limitDeg);
  return 0.5 * (1 + Math.cos((Math.PI * r) / 2));
}

// 68-point landmark indices: outer eye corners and nose tip.
const LEFT_EYE_OUTER = 36;
const RIGHT_EYE_OUTER = 45;
const NOSE_TIP = 30;

/**
 * Coarse |yaw| from the landmarks when the pose model is off: a turned head moves the
 * nose tip towards one eye corner. t = where the nose sits between the outer eye corners
 * (½ = frontal); |yaw| ≈ asin(2·|t − ½|). Pitch cannot be read this way and is taken as 0.
 */
export function landmarkYawDeg(landmarks: number[] | undefined): number | null {
  if (!landmarks || landmarks.length < 136) return null;
  const lx = landmarks[LEFT_EYE_OUTER * 2];
  const rx = landmarks[RIGHT_EYE_OUTER * 2];
  const nx = landmarks[NOSE_TIP * 2];
  if (lx === undefined || rx === undefined || nx === undefined || rx === lx) return null;
  const t = (nx - lx) / (rx - lx);
  return (Math.asin(Math.min(1, Math.abs(2 * (t - 0.5)))) * 180) / Math.PI;
}

/** Head-orientation part of eye contact: pose if present, else landmarks, else ½ (unknown). */
function headFactor(face: Face, look: LookLimits): number {
  if (face.pose) return angleFactor(face.pose.yaw, look.yawDeg) * angleFactor(face.pose.pitch, look.pitchDeg);
  const yaw = landmarkYawDeg(face.landmarks);
  return yaw === null ? 0.5 : angleFactor(yaw, look.yawDeg);
}

/**
 * Eye part of eye contact. Both closed → 0.1: a face pointed at the camera with closed
 * eyes is not making contact. Otherwise the more open eye counts (one eye is often hidden
 * or squinting in a slight turn), from 0.7 to 1. Unknown eyes → 1: the head decides.
 */
function eyesFactor(face: Face): number {
  if (!face.eyes) return 1;
  if (face.eyes.bothClosed) return 0.1;
  return 0.7 + 0.3 * clamp01(Math.max(face.eyes.leftOpen, face.eyes.rightOpen));
}

/** Eye contact = head orientation × eyes (either one alone can break contact). */
export function eyeContact(face: Face, look: LookLimits): number {
  return toScore(headFactor(face, look) * eyesFactor(face));
}

function probability(face: Face, label: string): number {
  const e = face.expression;
  if (!e) return 0;
  const p = e.probabilities[label];
  if (p !== undefined) return clamp01(p);
  // A result without probabilities still names its dominant class.
  return Object.keys(e.probabilities).length === 0 && e.label === label ? 1 : 0;
}

/**
 * Positivity = 50 + 50 × (P(happy) + ½ P(surprise) − P(angry) − P(disgust) − P(fear) − P(sad)).
 * Neutral sits at 50; surprise counts half because it is as often alarm as delight. No
 * expression result → 50 (unknown is reported as neutral, not as negative).
 */
export function positivity(face: Face): number {
  if (!face.expression) return 50;
  const up = probability(face, 'happy') + 0.5 * probability(face, 'surprise');
  const down = ['angry', 'disgust', 'fear', 'sad'].reduce((s, l) => s + probability(face, l), 0);
  return toScore(0.5 + 0.5 * (up - down));
}

const centre = (b: Box): [number, number] => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
const size = (b: Box): number => Math.sqrt(Math.max(1e-6, (b[2] - b[0]) * (b[3] - b[1])));

/** Movement from the previous frame of the track, in units where ~1 is "a lot". */
function motion(face: Face, previous: TrackState): number {
  const [cx, cy] = centre(face.box);
  const [px, py] = centre(previous.box);
  const ref = size(previous.box);
  // Relative to face size, so the same head movement scores the same near and far.
  const shift = Math.hypot(cx - px, cy - py) / ref;
  const scale = Math.abs(Math.log(size(face.box) / ref));
  const p = face.pose;
  const q = previous.pose;
  const turn = p && q ? Math.max(Math.abs(p.yaw - q.yaw), Math.abs(p.pitch - q.pitch), Math.abs(p.roll - q.roll)) : 0;
  return shift / 0.25 + scale / 0.2 + turn / 15;
}

/**
 * Posture stability = 100 × e^(−motion), where motion adds the box-centre shift (per ¼ of
 * the face size), the size change (per 20 %, log ratio so growing and shrinking weigh the
 * same) and the largest yaw/pitch/roll change (per 15°) since the track's last frame. One
 * such unit of movement gives 37; no previous frame (new track) gives 100.
 */
export function postureStability(face: Face, previous: TrackState | undefined): number {
  if (!previous) return 100;
  return toScore(Math.exp(-motion(face, previous)));
}

/** Arousal = 1 − P(neutral) − P(sad): a flat or low expression reads as disengaged. */
function arousal(face: Face): number {
  return clamp01(1 - probability(face, 'neutral') - probability(face, 'sad'));
}

/**
 * Engagement = weighted mean of eye contact (0.35), eyes open (0.2, the more open eye),
 * head stability (0.15), expression arousal (0.15) and detection presence (0.15, the
 * detector score: a half-hidden or turned face is detected less surely). A term whose
 * analyzer is off (eyes, expression) drops out and the others are re-weighted, so a
 * missing analyzer neither raises nor lowers the score.
 */
export function engagement(face: Face, scores: Pick<FaceScores, 'eyeContact' | 'postureStability'>): number {
  const terms: Array<[number, number]> = [
    [0.35, scores.eyeContact / 100],
    [0.15, scores.postureStability / 100],
    [0.15, clamp01(face.score)],
  ];
  if (face.eyes) terms.push([0.2, face.eyes.bothClosed ? 0 : clamp01(Math.max(face.eyes.leftOpen, face.eyes.rightOpen))]);
  if (face.expression) terms.push([0.15, arousal(face)]);
  const weight = terms.reduce((s, [w]) => s + w, 0);
  return toScore(terms.reduce((s, [w, v]) => s + w * v, 0) / weight);
}

/** All scores of one face; `previous` is the track before this frame (undefined for a new one). */
export function scoreFace(face: Face, previous: TrackState | undefined, look: LookLimits): FaceScores {
  const contact = eyeContact(face, look);
  const stability = postureStability(face, previous);
  return {
    eyeContact: contact,
    engagement: engagement(face, { eyeContact: contact, postureStability: stability }),
    positivity: positivity(face),
    postureStability: stability,
    // Detector confidence as is: the only score that is not a judgement.
    confidence: toScore(face.score),
  };
}
