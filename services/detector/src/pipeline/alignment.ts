import type { Affine } from './sampler.js';

/** ArcFace's 112×112 reference positions: eye centres, nose tip, mouth corners. */
export const ARCFACE_TEMPLATE: ReadonlyArray<readonly [number, number]> = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];
export const ALIGNED_SIZE = 112;

type Point = readonly [number, number];

/**
 * The five alignment points from 68-point landmarks (flat x0, y0, x1, y1, …): the centres
 * of the eye contours (36–41, 42–47; the subject's right eye is first, on the image left),
 * the nose tip (30) and the mouth corners (48, 54).
 */
export function fivePoints(landmarks: ArrayLike<number>): Point[] {
  const p = (i: number): Point => [landmarks[2 * i]!, landmarks[2 * i + 1]!];
  const mean = (from: number, to: number): Point => {
    let x = 0;
    let y = 0;
    for (let i = from; i <= to; i++) {
      x += landmarks[2 * i]!;
      y += landmarks[2 * i + 1]!;
    }
    const n = to - from + 1;
    return [x / n, y / n];
  };
  return [mean(36, 41), mean(42, 47), p(30), p(48), p(54)];
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation) taking the
 * template onto the image points, i.e. the sampler's output → source map for an aligned
 * crop. Closed form of x = a·u − b·v + tx, y = b·u + a·v + ty over the point pairs.
 */
export function similarityFromTemplate(points: readonly Point[], template: readonly Point[] = ARCFACE_TEMPLATE): Affine {
  const n = template.length;
  let mu = 0, mv = 0, mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mu += template[i]![0]; mv += template[i]![1];
    mx += points[i]![0]; my += points[i]![1];
  }
  mu /= n; mv /= n; mx /= n; my /= n;
  let sa = 0, sb = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const u = template[i]![0] - mu;
    const v = template[i]![1] - mv;
    const x = points[i]![0] - mx;
    const y = points[i]![1] - my;
    sa += u * x + v * y;
    sb += u * y - v * x;
    norm += u * u + v * v;
  }
  const a = sa / norm;
  const b = sb / norm;
  return [a, -b, mx - a * mu + b * mv, b, a, my - b * mu - a * mv];
}
