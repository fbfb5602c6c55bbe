import type { Rect } from '@lookout/contracts';
import type { HeadPose } from '../analyzers/pose.js';

/**
 * When a stream's head pose may be carried instead of run again (POSE_REUSE_*): the face's
 * shape (its 68 landmarks relative to its box) moved less than `maxShift` since the pose
 * was computed, and the pose is at most `maxAgeMs` old. The pose model is the one costly
 * per-face model that runs on every frame (about a third of a one-face frame's CPU here),
 * and a still face gives the same angles again; a turn moves the shape at once.
 */
export interface PoseReuse {
  maxAgeMs: number;
  maxShift: number;
}

/** The deployment's pose reuse (DetectorConfig). */
export function poseReuseOf(config: { poseReuseMaxAgeMs: number; poseReuseMaxShift: number }): PoseReuse {
  return { maxAgeMs: config.poseReuseMaxAgeMs, maxShift: config.poseReuseMaxShift };
}

/** What the cadence tracker keeps of a pose run: the angles and the shape they were read from. */
export interface PoseRun extends HeadPose {
  shape?: Float32Array;
}

/** A face's 68 landmarks relative to its box (x, y in box widths and heights), flat. */
export function faceShape(landmarks: ArrayLike<number>, box: Rect): Float32Array {
  const w = Math.max(1e-6, box[2] - box[0]);
  const h = Math.max(1e-6, box[3] - box[1]);
  const out = new Float32Array(landmarks.length);
  for (let i = 0; i + 1 < landmarks.length; i += 2) {
    out[i] = (landmarks[i]! - box[0]) / w;
    out[i + 1] = (landmarks[i + 1]! - box[1]) / h;
  }
  return out;
}

/** Mean distance between corresponding points of two shapes (Infinity if they differ in length). */
export function shapeShift(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length === 0) return Infinity;
  let sum = 0;
  for (let i = 0; i + 1 < a.length; i += 2) sum += Math.hypot(a[i]! - b[i]!, a[i + 1]! - b[i + 1]!);
  return sum / (a.length / 2);
}

/** Whether a carried pose run still stands for a face of this shape. */
export function poseStillValid(reuse: PoseReuse, carried: { value: PoseRun; ageMs: number } | undefined, shape: Float32Array | undefined): boolean {
  if (!carried || !shape || !carried.value.shape || carried.ageMs > reuse.maxAgeMs) return false;
  return shapeShift(shape, carried.value.shape) < reuse.maxShift;
}
