import type { DetectedFace, DetectionMode, Rect } from '@lookout/contracts';
import { DETECTOR_INPUT, type FaceDetector } from '../models/face-detector.js';
import type { Scored } from '../models/nms.js';
import { cutByTileEdge, mergeDetections, planTiles } from '../models/tiling.js';
import type { RgbImage } from './sampler.js';

/** How a frame's faces are found (a room's `detection` config over the deployment's defaults). */
export interface DetectionSettings {
  mode: DetectionMode;
  /** Smallest face side to find, original frame pixels: sets the tile scale. */
  smallestFace: number;
}

/**
 * Tiles are scaled so the room's smallest face lands at this many model input px. On the
 * wide scenes (faces 20–45 px, docs/detector.md), a 20 px face at 15 input px gave 94.9%
 * recall (42 tiles at 1280×720), at 12 px 93.2% (20 tiles), at 9 px 90.6% (12 tiles), at
 * 7.5 px 79.5% (6 tiles), measured while tuning: 12 is where recall stops paying for tiles.
 */
export const RELIABLE_MODEL_FACE = 12;
/**
 * Faces of this many input px and more are taken as the whole-frame pass's (twice the
 * tiles' target size); smaller ones are the tiles'. Tile overlap covers the largest face
 * the whole-frame pass may miss, and tiles drop boxes larger than the overlap.
 */
export const WHOLE_FRAME_FACE = 24;
/**
 * `auto` considers tiling only frames at least this many times the model's input (a
 * 640×480 webcam is 2×, never tiled): below it, the whole-frame pass already sees faces
 * of 3 × 12 = 36 px, about the smallest a webcam user shows.
 */
export const AUTO_MIN_FRAME_SCALE = 3;
/**
 * `auto`: a whole-frame face under this many input px (144 px in 1280×720) says people
 * are far from the camera, and smaller ones are likely in view: tile.
 */
export const SMALL_WHOLE_FACE = 36;
/** `auto`: after a tiled pass found small faces, keep tiling this stream for this long. */
export const AUTO_HOLD_MS = 3000;
/** `auto`: a large frame with no small face in view is probed with tiles this often. */
export const AUTO_PROBE_MS = 1000;

type Detection = Pick<DetectedFace, 'box' | 'score'>;

export interface SmallFaceResult {
  faces: Detection[];
  /** Tiles run on this frame (0: whole frame only). */
  tiles: number;
  /** Time spent on them, ms. */
  tilesMs: number;
}

/** The frame's shrink factor to the model's input (2 for 640×480). */
export function frameScale(width: number, height: number): number {
  return Math.max(width / DETECTOR_INPUT.width, height / DETECTOR_INPUT.height);
}

/** Tile size in image px: the model's input × (smallest face / reliable model face), never beyond the frame's own scale. */
export function tileGeometry(width: number, height: number, smallestFace: number): { tile: { width: number; height: number }; overlap: number } {
  const scale = Math.min(Math.max(smallestFace / RELIABLE_MODEL_FACE, 0.5), frameScale(width, height));
  const tile = { width: Math.round(DETECTOR_INPUT.width * scale), height: Math.round(DETECTOR_INPUT.height * scale) };
  const overlap = Math.min(Math.ceil(WHOLE_FRAME_FACE * frameScale(width, height)), Math.floor(Math.min(tile.width, tile.height) / 2));
  return { tile, overlap };
}

/** What `auto` knows about a stream: when a tiled pass last ran and last found small faces. */
export interface StreamHistory {
  lastTiledMs?: number;
  smallSeenMs?: number;
}

/**
 * Whether `auto` tiles this frame. Never for frames under AUTO_MIN_FRAME_SCALE × the input
 * (webcams cost what they did). A large frame is tiled when the whole-frame pass found a
 * face near its limit (where there is one small face there are usually more), while a
 * tiled pass found small faces in the last AUTO_HOLD_MS, and otherwise once per
 * AUTO_PROBE_MS (a room that fills up is noticed within a second). One-off images
 * (`nowMs` undefined) are tiled when large and the whole pass found a small face or none.
 */
export function autoTiles(width: number, height: number, whole: readonly Scored[], history: StreamHistory | undefined, nowMs: number | undefined): boolean {
  const scale = frameScale(width, height);
  if (scale < AUTO_MIN_FRAME_SCALE) return false;
  if (whole.some((f) => faceSide(f.box) < SMALL_WHOLE_FACE * scale)) return true;
  // A one-off image has no next frame to probe on: tiled only when the whole pass found
  // nothing. An enrollment portrait (one big face) stays as it was: a tile's background
  // face must not compete with the person being enrolled.
  if (nowMs === undefined) return whole.length === 0;
  if (!history) return true;
  if (history.smallSeenMs !== undefined && nowMs - history.smallSeenMs < AUTO_HOLD_MS) return true;
  return history.lastTiledMs === undefined || nowMs - history.lastTiledMs >= AUTO_PROBE_MS;
}

const faceSide = (b: Rect) => Math.min(b[2] - b[0], b[3] - b[1]);

/**
 * A tile sees less context than the whole frame, and its false positives are dark sleeves
 * boxed tall and thin (scores 0.72–0.89, height/width 1.82–2.45: 3 boxes on the group
 * photos), where true tile faces score ≥ 0.9 but for 7 of 188 and measure 1.06–1.77.
 */
export const TILE_MIN_SCORE = 0.9;
export const TILE_MAX_ASPECT = 1.8;

/**
 * Which of a tile's boxes join the merge: not cut by an inner tile edge (the face is whole
 * in a neighbour), no larger than the overlap (larger faces are the whole-frame pass's),
 * and face-like enough: a box under TILE_MIN_SCORE must be face-shaped (TILE_MAX_ASPECT).
 */
export function keepTileFace(f: Scored, tile: Rect, overlap: number, image: { width: number; height: number }): boolean {
  const [x1, y1, x2, y2] = f.box;
  if (faceSide(f.box) > overlap || cutByTileEdge(f.box, tile, image.width, image.height)) return false;
  return f.score >= TILE_MIN_SCORE || (y2 - y1) / (x2 - x1) <= TILE_MAX_ASPECT;
}

/** Streams not seen for this long are forgotten (soft state, like the cadences). */
const FORGET_MS = 60_000;

/**
 * Whole-frame detection plus, where the mode says so, tiles over the frame, merged into
 * one list. Keeps `auto`'s per-stream history.
 */
export class SmallFaceDetector {
  private readonly streams = new Map<string, StreamHistory & { seenMs: number }>();

  constructor(private readonly detector: FaceDetector) {}

  async detect(image: RgbImage, minFaceSize: number, settings: DetectionSettings, scale: number, stream?: { key: string; captureMs: number }): Promise<SmallFaceResult> {
    const whole = await this.detector.detect(image, minFaceSize);
    if (settings.mode === 'single') return { faces: whole, tiles: 0, tilesMs: 0 };
    const history = stream && this.streams.get(stream.key);
    if (settings.mode === 'auto' && !autoTiles(image.width, image.height, whole, history, stream?.captureMs)) return { faces: whole, tiles: 0, tilesMs: 0 };
    const t0 = performance.now();
    const { tile, overlap } = tileGeometry(image.width, image.height, settings.smallestFace * scale);
    const tiles = planTiles(image.width, image.height, tile, overlap);
    const found: Detection[] = [...whole];
    for (const t of tiles) {
      const inTile = await this.detector.detectIn(image, t, minFaceSize);
      found.push(...inTile.filter((f) => keepTileFace(f, t, overlap, image)));
    }
    const faces = mergeDetections(found, this.detector.nmsIou);
    if (stream) this.remember(stream.key, stream.captureMs, faces.length > whole.length);
    return { faces, tiles: tiles.length, tilesMs: Math.round((performance.now() - t0) * 100) / 100 };
  }

  private remember(key: string, nowMs: number, sawSmall: boolean): void {
    const h = this.streams.get(key) ?? { seenMs: nowMs };
    h.seenMs = nowMs;
    h.lastTiledMs = nowMs;
    if (sawSmall) h.smallSeenMs = nowMs;
    this.streams.set(key, h);
    for (const [k, v] of this.streams) if (nowMs - v.seenMs > FORGET_MS) this.streams.delete(k);
  }
}
