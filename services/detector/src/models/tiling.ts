import { iou, type Rect } from '@lookout/contracts';
import type { Scored } from './nms.js';

/**
 * Geometry of small-face detection. The detector's fixed 320×240 input makes a face of
 * 20 px in a 1920×1080 frame 3 px wide: gone. Tiles of the frame, each stretched to the
 * input on its own, show the model small faces at a size it finds (docs/detector.md).
 */

export interface TileSize {
  width: number;
  height: number;
}

/**
 * Offsets of `count` tiles of `size` spread evenly over `extent` (first at 0, last flush
 * with the end), so every tile is the same size and the overlaps are equal.
 */
function spread(extent: number, size: number, overlap: number): number[] {
  if (size >= extent) return [0];
  const count = Math.ceil((extent - overlap) / (size - overlap));
  const step = (extent - size) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

/**
 * Tiles of `tile` size covering `width`×`height`, neighbours overlapping by at least
 * `overlap` px (a face no wider than the overlap lies whole inside some tile). A tile
 * larger than the frame in one dimension is cut to the frame there.
 */
export function planTiles(width: number, height: number, tile: TileSize, overlap: number): Rect[] {
  const tw = Math.min(tile.width, width);
  const th = Math.min(tile.height, height);
  if (overlap >= Math.min(tw, th)) throw new Error(`tile overlap ${overlap} must be below the tile size ${tw}×${th}`);
  const xs = spread(width, tw, overlap);
  const ys = spread(height, th, overlap);
  return ys.flatMap((y) => xs.map((x): Rect => [x, y, x + tw, y + th]));
}

/** Tolerance in px for "touches a tile edge": boxes are clipped to the tile, so a cut face lies on the edge. */
const EDGE_PX = 1;

/**
 * A box that touches an edge of its tile that is inside the frame may be a face cut by
 * that edge (a half face, boxed half). The overlap guarantees a small face is whole in a
 * neighbouring tile, and a large one is the whole-frame pass's, so such boxes are dropped.
 */
export function cutByTileEdge(box: Rect, tile: Rect, width: number, height: number): boolean {
  return (
    (tile[0] > 0 && box[0] - tile[0] <= EDGE_PX) ||
    (tile[1] > 0 && box[1] - tile[1] <= EDGE_PX) ||
    (tile[2] < width && tile[2] - box[2] <= EDGE_PX) ||
    (tile[3] < height && tile[3] - box[3] <= EDGE_PX)
  );
}

/** Share of the smaller box covered by the larger above which two boxes are one face. */
const CONTAINED = 0.7;

function intersection(a: Rect, b: Rect): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

const area = (r: Rect) => (r[2] - r[0]) * (r[3] - r[1]);

/** Same face: IoU above the NMS threshold, or one box mostly inside the other (a face seen at two scales boxes differently). */
export function sameFace(a: Rect, b: Rect, nmsIou: number): boolean {
  if (iou(a, b) > nmsIou) return true;
  return intersection(a, b) >= CONTAINED * Math.min(area(a), area(b));
}

/**
 * One list from the whole-frame pass and every tile's: greedy by score, a box is kept
 * unless a kept box is the same face. Faces found in two overlapping tiles, or by a tile
 * and the whole frame, come out once.
 */
export function mergeDetections<T extends Scored>(candidates: readonly T[], nmsIou: number): T[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const c of sorted) {
    if (!kept.some((k) => sameFace(k.box, c.box, nmsIou))) kept.push(c);
  }
  return kept;
}
