import { iou, type Rect } from '@lookout/contracts';

export interface Scored {
  box: Rect;
  score: number;
}

/**
 * Greedy non-maximum suppression by descending score (the reference library sorts by
 * the bottom edge, which keeps the wrong box of an overlapping pair).
 */
export function nms<T extends Scored>(candidates: readonly T[], iouThreshold: number): T[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const c of sorted) {
    if (kept.every((k) => iou(k.box, c.box) <= iouThreshold)) kept.push(c);
  }
  return kept;
}
