import type { Rect } from '@lookout/contracts';
import { cutByTileEdge, mergeDetections, planTiles, sameFace } from '../src/models/tiling.js';
import { AUTO_HOLD_MS, AUTO_PROBE_MS, autoTiles, keepTileFace, tileGeometry } from '../src/pipeline/small-faces.js';

const face = (box: Rect, score = 0.99) => ({ box, score });

describe('planTiles', () => {
  const tiles = planTiles(1280, 720, { width: 355, height: 266 }, 96);
  it('covers the frame with equal tiles, first at the origin and last flush with the edges', () => {
    expect(new Set(tiles.map((t) => `${t[2] - t[0]}x${t[3] - t[1]}`))).toEqual(new Set(['355x266']));
    expect(Math.min(...tiles.map((t) => t[0]))).toBe(0);
    expect(Math.max(...tiles.map((t) => t[2]))).toBe(1280);
    expect(Math.max(...tiles.map((t) => t[3]))).toBe(720);
    expect(tiles).toHaveLength(5 * 4);
  });
  it('overlaps neighbours by at least the requested overlap, so a face that small is whole in some tile', () => {
    const xs = [...new Set(tiles.map((t) => t[0]))].sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) expect(xs[i - 1]! + 355 - xs[i]!).toBeGreaterThanOrEqual(96);
    // Every 96 px square anywhere in the frame lies inside one tile.
    for (let x = 0; x + 96 <= 1280; x += 37) {
      for (let y = 0; y + 96 <= 720; y += 29) expect(tiles.some((t) => t[0] <= x && t[1] <= y && t[2] >= x + 96 && t[3] >= y + 96)).toBe(true);
    }
  });
  it('is one tile, cut to the frame, when the frame is no larger than a tile', () => {
    expect(planTiles(300, 200, { width: 355, height: 266 }, 96)).toEqual([[0, 0, 300, 200]]);
  });
  it('refuses an overlap as large as the tile', () => {
    expect(() => planTiles(1280, 720, { width: 100, height: 80 }, 80)).toThrow(/overlap/);
  });
});

describe('tile geometry', () => {
  it('scales tiles so the smallest face lands at the reliable model size, overlap covering what the whole pass may miss', () => {
    // 1280×720 (scale 4), smallest face 20 px of a 1920 camera = 13.3 px here.
    const { tile, overlap } = tileGeometry(1280, 720, 20 * (1280 / 1920));
    expect(tile).toEqual({ width: 356, height: 267 });
    expect(overlap).toBe(96);
  });
  it('never makes tiles larger than the whole frame shrunk to the model', () => {
    expect(tileGeometry(640, 480, 100).tile).toEqual({ width: 640, height: 480 });
  });
});

describe('merging across tiles', () => {
  const image = { width: 1280, height: 720 };
  const tile: Rect = [300, 200, 655, 466];
  it('drops a box on an inner tile edge (a cut face) but keeps one on the frame edge', () => {
    expect(cutByTileEdge([300, 250, 320, 280], tile, image.width, image.height)).toBe(true);
    expect(cutByTileEdge([620, 250, 655, 280], tile, image.width, image.height)).toBe(true);
    expect(cutByTileEdge([400, 250, 430, 290], tile, image.width, image.height)).toBe(false);
    expect(cutByTileEdge([0, 0, 20, 26], [0, 0, 355, 266], image.width, image.height)).toBe(false);
  });
  it('keeps face-shaped or confident tile boxes no larger than the overlap', () => {
    expect(keepTileFace(face([400, 250, 430, 290]), tile, 96, image)).toBe(true);
    expect(keepTileFace(face([400, 250, 430, 350], 0.8), tile, 96, image)).toBe(false); // a sleeve: tall, thin, unsure
    expect(keepTileFace(face([400, 250, 430, 350], 0.95), tile, 96, image)).toBe(true);
    expect(keepTileFace(face([320, 220, 440, 360]), tile, 96, image)).toBe(false); // the whole-frame pass's
  });
  it('gives one box for a face seen by two overlapping tiles and by the whole frame', () => {
    const merged = mergeDetections(
      [face([500, 300, 530, 340], 0.97), face([501, 301, 531, 341], 0.99), face([498, 297, 533, 344], 0.9), face([800, 300, 830, 340], 0.95)],
      0.4,
    );
    expect(merged.map((m) => m.score)).toEqual([0.99, 0.95]);
  });
  it('counts a box mostly inside another as the same face (two scales box a face differently)', () => {
    expect(sameFace([100, 100, 140, 150], [104, 110, 136, 146], 0.4)).toBe(true);
    expect(sameFace([100, 100, 140, 150], [130, 100, 170, 150], 0.4)).toBe(false);
  });
});

describe('auto: whether a frame is tiled', () => {
  const big = (side: number) => face([100, 100, 100 + side, 100 + side * 1.3]);
  it('never tiles a 640×480 webcam frame, whatever it shows', () => {
    for (const faces of [[], [big(200)], [big(20)]]) expect(autoTiles(640, 480, faces, undefined, undefined)).toBe(false);
    expect(autoTiles(640, 480, [], { lastTiledMs: 0 }, 10_000)).toBe(false);
    expect(autoTiles(800, 600, [big(30)], undefined, 0)).toBe(false);
  });
  it('tiles a large frame whose whole-frame pass found a small face', () => {
    expect(autoTiles(1280, 720, [big(300), big(60)], { lastTiledMs: 0 }, 100)).toBe(true);
  });
  it('tiles a large frame with only big faces once per probe interval, and keeps tiling while tiles find small faces', () => {
    const faces = [big(300)];
    expect(autoTiles(1280, 720, faces, { lastTiledMs: 1000 }, 1000 + AUTO_PROBE_MS - 1)).toBe(false);
    expect(autoTiles(1280, 720, faces, { lastTiledMs: 1000 }, 1000 + AUTO_PROBE_MS)).toBe(true);
    expect(autoTiles(1280, 720, faces, { lastTiledMs: 1000, smallSeenMs: 1000 }, 1000 + AUTO_HOLD_MS - 1)).toBe(true);
    expect(autoTiles(1280, 720, [], undefined, 5)).toBe(true); // a new stream is probed at once
  });
  it('tiles a large one-off image only when the whole pass found a small face or none (an enrollment portrait is left alone)', () => {
    expect(autoTiles(1920, 1080, [big(300)], undefined, undefined)).toBe(false);
    expect(autoTiles(1920, 1080, [big(300), big(40)], undefined, undefined)).toBe(true);
    expect(autoTiles(1920, 1080, [], undefined, undefined)).toBe(true);
  });
});
