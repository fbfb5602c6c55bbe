import type { FacesMessage, Rect, TextInFrame } from '@lookout/contracts';
import type { ExpressionResult } from '../analyzers/expression.js';
import type { EyeState } from '../analyzers/eyes.js';
import type { CadencedAnalyzer } from './cadence.js';
import { faceShape, type PoseRun } from './pose-reuse.js';

/** One run of a cadenced analyzer, as the tracker records it: per face, its box and value. */
export interface PeerRun {
  analyzer: CadencedAnalyzer;
  results: Array<{ box: Rect; value: PoseRun | EyeState | ExpressionResult | number | TextInFrame; atMs?: number }>;
}

/**
 * The cadenced-analyzer runs a replica's faces message reports: its `timings` name every
 * stage that ran on that frame, and its faces carry what each found. Boxes and text
 * regions are converted back to the pixels this replica analyses such a frame at (the
 * message has them in the original frame's; the tracker matches faces by box overlap in
 * analysed pixels). Derived fields (lookingAtCamera, bothClosed, live, ageMs) are left
 * out: this replica derives them from its own settings when it carries the value. A pose
 * keeps its age (a still face's pose may have been carried: `atMs` is when it was
 * computed) and the face's shape, which pose reuse compares (pose-reuse.ts).
 */
export function runsInFacesMessage(msg: FacesMessage, maxSide: number): PeerRun[] {
  const scale = Math.min(1, maxSide / Math.max(msg.width, msg.height));
  const box = (b: Rect): [number, number, number, number] => [b[0] * scale, b[1] * scale, b[2] * scale, b[3] * scale];
  const ran = (stage: CadencedAnalyzer) => msg.timings[stage] !== undefined;
  const perFace = <T>(analyzer: CadencedAnalyzer, valueOf: (f: FacesMessage['faces'][number]) => T | undefined): PeerRun[] => {
    if (!ran(analyzer)) return [];
    const results = msg.faces.flatMap((f) => {
      const value = valueOf(f);
      return value === undefined ? [] : [{ box: box(f.box), value: value as PeerRun['results'][number]['value'] }];
    });
    return [{ analyzer, results }];
  };
  return [
    ...poseRuns(msg, box),
    ...perFace('eyes', (f) => f.eyes && { leftOpen: f.eyes.leftOpen, rightOpen: f.eyes.rightOpen }),
    ...perFace('expression', (f) => f.expression && ({ label: f.expression.label, probabilities: f.expression.probabilities } as ExpressionResult)),
    ...perFace('liveness', (f) => f.liveness?.score),
    ...(ran('text') && msg.text
      ? [{ analyzer: 'text' as const, results: [{ box: [0, 0, msg.width * scale, msg.height * scale] as Rect, value: { ...msg.text, ageMs: 0, regions: msg.text.regions.map((r) => ({ ...r, box: box(r.box) })) } }] }]
      : []),
  ];
}

/** The pose run a faces message reports, when the model ran on any of its faces. */
function poseRuns(msg: FacesMessage, box: (b: Rect) => [number, number, number, number]): PeerRun[] {
  if (msg.timings.pose === undefined) return [];
  const results = msg.faces.flatMap((f) => {
    if (!f.pose) return [];
    const value: PoseRun = { yaw: f.pose.yaw, pitch: f.pose.pitch, roll: f.pose.roll, ...(f.landmarks ? { shape: faceShape(f.landmarks, f.box) } : {}) };
    return [{ box: box(f.box), value, atMs: msg.captureMs - (f.pose.ageMs ?? 0) }];
  });
  return [{ analyzer: 'pose', results }];
}
