import fs from 'node:fs';
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { seededRandom } from '../random.js';
import { FIXTURES } from '../services.js';

/**
 * Wide test scenes for small-face detection: every group photo of the fixtures
 * (test/fixtures/faces/group, annotated in manifest.json) shrunk so its faces are 20–40 px
 * and laid out on one 1920×1080 frame, as a camera over a classroom sees people. The
 * ground truth is the manifest's boxes, scaled and translated like the photos. Built at
 * test time, deterministically (seeded layout, seeded background), so no derived images
 * are committed; same licences as the source photos (test/fixtures/faces/README.md).
 */

export type Box = [number, number, number, number];

export interface WideScene {
  name: string;
  width: number;
  height: number;
  jpeg: Buffer;
  /** Annotated faces, in scene pixels. */
  faces: Box[];
  /** Faces the manifest marks ambiguous: finding them is neither a hit nor a false positive. */
  ambiguous: Box[];
}

interface GroupEntry {
  file: string;
  width: number;
  height: number;
  boxes: Box[];
  ambiguous_boxes: Box[];
}

export const WIDE_SCENE_SIZE = { width: 1920, height: 1080 } as const;
/** Each photo's smallest face is drawn in [20, 32] px; the largest then stays under ~45 px. */
const MIN_FACE = { lo: 20, hi: 32 } as const;
const COLUMNS = 5;
const ROWS = 2;
const MARGIN = 8;

function groupPhotos(): GroupEntry[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'faces/manifest.json'), 'utf8')) as { group: GroupEntry[] };
  return manifest.group;
}

/** A smooth, non-uniform background (seeded blotches): plain grey would make false positives too easy. */
async function background(random: () => number): Promise<Buffer> {
  const w = 48;
  const h = 27;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i += 3) {
    const luma = 60 + random() * 140;
    for (let c = 0; c < 3; c++) raw[i + c] = Math.round(luma + (random() - 0.5) * 50);
  }
  const { width, height } = WIDE_SCENE_SIZE;
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { kernel: 'cubic' }).png().toBuffer();
}

/** Scale factor for one photo: smallest face at `target` px, the photo inside its cell. */
function photoScale(g: GroupEntry, target: number, cellW: number, cellH: number): number {
  const smallest = Math.min(...g.boxes.map((b) => Math.min(b[2] - b[0], b[3] - b[1])));
  return Math.min(target / smallest, (cellW - 2 * MARGIN) / g.width, (cellH - 2 * MARGIN) / g.height);
}

const place = (b: Box, s: number, x: number, y: number): Box => [x + b[0] * s, y + b[1] * s, x + b[2] * s, y + b[3] * s].map((v) => Math.round(v * 10) / 10) as Box;

/** One scene: the ten group photos in a seeded order, sizes and positions. */
export async function buildWideScene(seed: number): Promise<WideScene> {
  const random = seededRandom(seed);
  const photos = groupPhotos();
  const order = photos.map((g) => ({ g, k: random() })).sort((a, b) => a.k - b.k).map((p) => p.g);
  const cellW = Math.floor(WIDE_SCENE_SIZE.width / COLUMNS);
  const cellH = Math.floor(WIDE_SCENE_SIZE.height / ROWS);
  const layers: OverlayOptions[] = [];
  const faces: Box[] = [];
  const ambiguous: Box[] = [];
  for (const [i, g] of order.entries()) {
    const s = photoScale(g, MIN_FACE.lo + random() * (MIN_FACE.hi - MIN_FACE.lo), cellW, cellH);
    const w = Math.round(g.width * s);
    const h = Math.round(g.height * s);
    const x = (i % COLUMNS) * cellW + MARGIN + Math.floor(random() * (cellW - 2 * MARGIN - w + 1));
    const y = Math.floor(i / COLUMNS) * cellH + MARGIN + Math.floor(random() * (cellH - 2 * MARGIN - h + 1));
    // The true scale after rounding the photo's size, so boxes land where the pixels do.
    const sx = w / g.width;
    layers.push({ input: await sharp(path.join(FIXTURES, 'faces', g.file)).resize(w, h, { fit: 'fill' }).toBuffer(), left: x, top: y });
    faces.push(...g.boxes.map((b) => place(b, sx, x, y)));
    ambiguous.push(...g.ambiguous_boxes.map((b) => place(b, sx, x, y)));
  }
  const jpeg = await sharp(await background(random)).composite(layers).jpeg({ quality: 90 }).toBuffer();
  return { name: `wide-${seed}`, ...WIDE_SCENE_SIZE, jpeg, faces, ambiguous };
}

/** The standard set: three scenes (seeds 1–3), 117 annotated faces. */
export async function buildWideScenes(seeds: readonly number[] = [1, 2, 3]): Promise<WideScene[]> {
  const scenes: WideScene[] = [];
  for (const seed of seeds) scenes.push(await buildWideScene(seed));
  return scenes;
}
