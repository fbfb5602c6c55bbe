import type { DetectedFace, FaceScores } from '@lookout/contracts';
import { angleFactor, landmarkYawDeg, scoreFace } from '../src/stream/core/scores.js';
import type { TrackState } from '../src/stream/core/types.js';

type Face = Omit<DetectedFace, 'crop'>;
const LOOK = { yawDeg: 30, pitchDeg: 25 };
const NEUTRAL = { angry: 0, disgust: 0, fear: 0, happy: 0, sad: 0, surprise: 0, neutral: 1 };

function face(over: Partial<Face> = {}): Face {
  return {
    box: [100, 100, 200, 200],
    score: 0.9,
    pose: { yaw: 0, pitch: 0, roll: 0, lookingAtCamera: true },
    eyes: { leftOpen: 1, rightOpen: 1, bothClosed: false },
    expression: { label: 'neutral', probabilities: NEUTRAL, ageMs: 0 },
    ...over,
  };
}
const posed = (yaw: number, pitch = 0, roll = 0): Face => face({ pose: { yaw, pitch, roll, lookingAtCamera: false } });
const eyes = (open: number, bothClosed = false): Face => face({ eyes: { leftOpen: open, rightOpen: open, bothClosed } });
const expr = (probabilities: Record<string, number>): Face => face({ expression: { label: 'neutral', probabilities, ageMs: 0 } });

function track(over: Partial<TrackState> = {}): TrackState {
  return {
    id: 't1', box: [100, 100, 200, 200], firstMs: 0, lastMs: 0, lastSeq: 0, hits: 1, misses: 0,
    embedding: null, votes: [], identity: null, identitySinceMs: null, pose: { yaw: 0, pitch: 0, roll: 0 }, ...over,
  };
}

const score = (f: Face, prev?: TrackState): FaceScores => scoreFace(f, prev, LOOK);
const pick = <K extends keyof FaceScores>(k: K, faces: Face[], prev?: TrackState) => faces.map((f) => score(f, prev)[k]);
const nonIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x <= (xs[i - 1] ?? Infinity));
const nonDecreasing = (xs: number[]) => nonIncreasing([...xs].reverse());

describe('scoreFace bounds', () => {
  it('keeps every score within 0–100 with at most one decimal, whatever the input', () => {
    const faces: Face[] = [
      face(), face({ pose: undefined, eyes: undefined, expression: undefined, score: 0 }),
      posed(179, -90, 180), eyes(0, true), face({ box: [0, 0, 0, 0], score: 1 }),
      expr({ happy: 1, surprise: 1 }), expr({ angry: 1, disgust: 1, fear: 1, sad: 1 }),
    ];
    const prevs = [undefined, track(), track({ box: [5000, 5000, 5001, 5001], pose: { yaw: -90, pitch: 90, roll: 0 } }), track({ pose: null })];
    for (const f of faces) {
      for (const p of prevs) {
        for (const v of Object.values(score(f, p))) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(100);
          expect(Math.round(v * 10) / 10).toBe(v);
        }
      }
    }
  });
});

describe('eyeContact', () => {
  it('is 100 head-on with open eyes, 50 at the limit, 0 at twice the limit', () => {
    expect(score(face()).eyeContact).toBe(100);
    expect(score(posed(30)).eyeContact).toBe(50);
    expect(score(posed(0, 25)).eyeContact).toBe(50);
    expect(score(posed(60)).eyeContact).toBe(0);
    expect(score(posed(-90)).eyeContact).toBe(0);
  });

  it('falls as the head turns either way or tilts, and is symmetric', () => {
    const yaws = [0, 5, 10, 20, 30, 40, 50, 60, 80];
    expect(nonIncreasing(pick('eyeContact', yaws.map((y) => posed(y))))).toBe(true);
    expect(pick('eyeContact', yaws.map((y) => posed(-y)))).toEqual(pick('eyeContact', yaws.map((y) => posed(y))));
    expect(nonIncreasing(pick('eyeContact', [0, 10, 20, 30, 40].map((p) => posed(10, p))))).toBe(true);
  });

  it('is low with both eyes closed and rises with openness', () => {
    expect(score(eyes(0, true)).eyeContact).toBe(10);
    expect(nonDecreasing(pick('eyeContact', [eyes(0, true), eyes(0.2), eyes(0.5), eyes(1)]))).toBe(true);
  });

  it('without pose reads yaw from the landmarks, else reports 50 (unknown)', () => {
    const marks = (noseX: number): number[] => {
      const l = new Array<number>(136).fill(0);
      l[36 * 2] = 100;
      l[45 * 2] = 200;
      l[30 * 2] = noseX;
      return l;
    };
    expect(landmarkYawDeg(marks(150))).toBe(0);
    expect(landmarkYawDeg(marks(175))).toBeCloseTo(30, 5);
    expect(landmarkYawDeg(undefined)).toBeNull();
    const noPose = (l?: number[]) => face({ pose: undefined, landmarks: l });
    expect(score(noPose(marks(150))).eyeContact).toBe(100);
    expect(nonIncreasing(pick('eyeContact', [150, 160, 175, 190].map((x) => noPose(marks(x)))))).toBe(true);
    expect(score(noPose()).eyeContact).toBe(50);
    expect(score(face({ pose: undefined, eyes: { leftOpen: 0, rightOpen: 0, bothClosed: true } })).eyeContact).toBe(5);
  });

  it('angleFactor is smooth at both ends and ½ at the limit', () => {
    expect(angleFactor(0, 30)).toBe(1);
    expect(angleFactor(30, 30)).toBeCloseTo(0.5, 10);
    expect(angleFactor(60, 30)).toBeCloseTo(0, 10);
    expect(angleFactor(1, 30)).toBeGreaterThan(0.99);
  });
});

describe('positivity', () => {
  it('is 50 for neutral or no expression, up with happy and surprise, down with negative ones', () => {
    expect(score(face()).positivity).toBe(50);
    expect(score(face({ expression: undefined })).positivity).toBe(50);
    expect(score(expr({ happy: 1 })).positivity).toBe(100);
    expect(score(expr({ surprise: 1 })).positivity).toBe(75);
    for (const neg of ['angry', 'disgust', 'fear', 'sad']) expect(score(expr({ [neg]: 1 })).positivity).toBe(0);
    const mix = (p: number, label: string) => expr({ neutral: 1 - p, [label]: p });
    expect(nonDecreasing(pick('positivity', [0, 0.2, 0.5, 1].map((p) => mix(p, 'happy'))))).toBe(true);
    expect(nonIncreasing(pick('positivity', [0, 0.2, 0.5, 1].map((p) => mix(p, 'sad'))))).toBe(true);
  });

  it('uses the label when a result has no probabilities', () => {
    expect(score(face({ expression: { label: 'happy', probabilities: {}, ageMs: 400 } })).positivity).toBe(100);
  });
});

describe('postureStability', () => {
  it('is 100 for a new track and for a face that did not move', () => {
    expect(score(face()).postureStability).toBe(100);
    expect(score(face(), track()).postureStability).toBe(100);
  });

  it('falls with movement, resizing and head rotation', () => {
    const shifted = [0, 5, 10, 25, 50].map((dx) => face({ box: [100 + dx, 100, 200 + dx, 200] }));
    expect(nonIncreasing(pick('postureStability', shifted, track()))).toBe(true);
    expect(score(face({ box: [125, 100, 225, 200] }), track()).postureStability).toBe(36.8);
    const grown = [0, 10, 20, 40].map((d) => face({ box: [100 - d, 100 - d, 200 + d, 200 + d] }));
    expect(nonIncreasing(pick('postureStability', grown, track()))).toBe(true);
    expect(nonIncreasing(pick('postureStability', [0, 5, 15, 30].map((r) => posed(0, 0, r)), track()))).toBe(true);
    expect(score(posed(15), track()).postureStability).toBe(36.8);
  });

  it('measures movement relative to the face size and ignores pose when either frame lacks it', () => {
    const big = track({ box: [0, 0, 400, 400] });
    expect(score(face({ box: [100, 0, 500, 400] }), big).postureStability).toBe(score(face({ box: [125, 100, 225, 200] }), track()).postureStability);
    expect(score(posed(40), track({ pose: null })).postureStability).toBe(100);
  });
});

describe('confidence', () => {
  it('is the detector score in percent', () => {
    expect(score(face({ score: 0.873 })).confidence).toBe(87.3);
    expect(score(face({ score: 1 })).confidence).toBe(100);
  });
});

describe('engagement', () => {
  it('rises with eye contact, open eyes, stillness, arousal and detection score', () => {
    expect(nonIncreasing(pick('engagement', [0, 15, 30, 45, 60].map((y) => posed(y))))).toBe(true);
    expect(nonDecreasing(pick('engagement', [eyes(0, true), eyes(0.3), eyes(0.7), eyes(1)]))).toBe(true);
    const moved = [0, 20, 50].map((dx) => face({ box: [100 + dx, 100, 200 + dx, 200] }));
    expect(nonIncreasing(pick('engagement', moved, track()))).toBe(true);
    const aroused = [0, 0.3, 0.6, 1].map((p) => expr({ neutral: 1 - p, happy: p }));
    expect(nonDecreasing(pick('engagement', aroused))).toBe(true);
    expect(score(expr({ sad: 1 })).engagement).toBe(score(face()).engagement);
    expect(nonDecreasing(pick('engagement', [0.5, 0.7, 0.9].map((s) => face({ score: s }))))).toBe(true);
  });

  it('is the documented weighted mean, re-weighted when analyzers are off', () => {
    // Head-on, eyes open, still, neutral, score 0.9: (0.35 + 0.2 + 0.15 + 0 + 0.15 × 0.9) / 1.
    expect(score(face()).engagement).toBe(83.5);
    // No eyes, no expression: (0.35 + 0.15 + 0.135) / 0.65.
    expect(score(face({ eyes: undefined, expression: undefined })).engagement).toBe(97.7);
    expect(score(expr({ happy: 1 })).engagement).toBe(98.5);
  });
});
