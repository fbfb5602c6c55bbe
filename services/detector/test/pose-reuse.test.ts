import { faceShape, poseStillValid, shapeShift, type PoseRun } from '../src/pipeline/pose-reuse.js';

/** 68 points on a ring inside a box, turned by `turn` (a crude head turn: the points slide sideways). */
function ring(box: [number, number, number, number], turn = 0): number[] {
  const [x1, y1, x2, y2] = box;
  const cx = (x1 + x2) / 2 + turn * (x2 - x1);
  const cy = (y1 + y2) / 2;
  return Array.from({ length: 68 }, (_, i) => [cx + 0.3 * (x2 - x1) * Math.cos(i / 10.8), cy + 0.3 * (y2 - y1) * Math.sin(i / 10.8)]).flat();
}

describe('pose reuse', () => {
  const reuse = { maxAgeMs: 1000, maxShift: 0.02 };
  const pose = (shape: Float32Array): PoseRun => ({ yaw: 5, pitch: 0, roll: 0, shape });

  it('measures a face\'s shape relative to its box, so moving or scaling the face changes nothing', () => {
    const a = faceShape(ring([100, 100, 300, 300]), [100, 100, 300, 300]);
    const moved = faceShape(ring([140, 90, 540, 490]), [140, 90, 540, 490]);
    expect(shapeShift(a, moved)).toBeLessThan(1e-6);
    expect(shapeShift(a, faceShape(ring([100, 100, 300, 300], 0.05), [100, 100, 300, 300]))).toBeCloseTo(0.05, 5);
    expect(shapeShift(a, new Float32Array(4))).toBe(Infinity);
  });

  it('keeps a pose while the shape stays within the limit and the pose within its age', () => {
    const box: [number, number, number, number] = [0, 0, 200, 200];
    const then = faceShape(ring(box), box);
    const still = faceShape(ring(box, 0.01), box);
    const turned = faceShape(ring(box, 0.03), box);
    expect(poseStillValid(reuse, { value: pose(then), ageMs: 400 }, still)).toBe(true);
    expect(poseStillValid(reuse, { value: pose(then), ageMs: 400 }, turned)).toBe(false);
    expect(poseStillValid(reuse, { value: pose(then), ageMs: 1001 }, still)).toBe(false);
    // No earlier pose, no landmarks now, or a pose with no shape (computed without landmarks): run.
    expect(poseStillValid(reuse, undefined, still)).toBe(false);
    expect(poseStillValid(reuse, { value: pose(then), ageMs: 0 }, undefined)).toBe(false);
    expect(poseStillValid(reuse, { value: { yaw: 1, pitch: 2, roll: 3 }, ageMs: 0 }, still)).toBe(false);
  });
});
