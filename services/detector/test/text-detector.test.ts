import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { TextDetector, inputSize, regionsFromProbabilityMap, type TextBox } from '../src/models/text-detector.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MODEL = path.join(ROOT, 'models/ppocr_det.onnx');

/** A w × h map with the given value everywhere, plus filled rectangles [x0, y0, x1, y1) of other values. */
function syntheticMap(w: number, h: number, background: number, blobs: Array<{ rect: TextBox; p: number }>): Float32Array {
  const map = new Float32Array(w * h).fill(background);
  for (const { rect, p } of blobs) {
    for (let y = rect[1]; y < rect[3]; y++) map.fill(p, y * w + rect[0], y * w + rect[2]);
  }
  return map;
}

const overlaps = (a: TextBox, b: TextBox) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

describe('regionsFromProbabilityMap', () => {
  it('returns one unclipped box per separated blob, scored by its mean probability, best first', () => {
    const map = syntheticMap(100, 80, 0.05, [
      { rect: [60, 40, 80, 60], p: 0.7 },
      { rect: [10, 10, 30, 20], p: 0.9 },
    ]);
    const regions = regionsFromProbabilityMap(map, 100, 80);
    expect(regions).toHaveLength(2);
    // 20×10 box: grows by 200 * 1.5 / 60 = 5 px a side; 20×20 box: by 400 * 1.5 / 80 = 7.5 px.
    expect(regions[0]!.box).toEqual([5, 5, 35, 25]);
    expect(regions[0]!.score).toBeCloseTo(0.9, 5);
    expect(regions[1]!.box).toEqual([52.5, 32.5, 87.5, 67.5]);
    expect(regions[1]!.score).toBeCloseTo(0.7, 5);
  });

  it('averages the score over the whole component, not its peak', () => {
    const map = syntheticMap(40, 40, 0, [
      { rect: [5, 5, 15, 15], p: 0.5 },
      { rect: [15, 5, 25, 15], p: 0.9 },
    ]);
    const [region] = regionsFromProbabilityMap(map, 40, 40);
    expect(region!.score).toBeCloseTo(0.7, 5);
    expect(region!.box[0]).toBeLessThan(5);
    expect(region!.box[2]).toBeGreaterThan(25);
  });

  it('drops blobs below the box threshold or the minimum size and clamps boxes to the map', () => {
    const map = syntheticMap(50, 50, 0, [
      { rect: [10, 10, 30, 20], p: 0.45 },
      { rect: [40, 40, 42, 42], p: 0.99 },
      { rect: [0, 30, 12, 38], p: 0.8 },
    ]);
    const regions = regionsFromProbabilityMap(map, 50, 50);
    expect(regions).toHaveLength(1);
    expect(regions[0]!.box[0]).toBe(0);
    expect(regions[0]!.box[1]).toBeLessThan(30);
  });

  it('finds nothing in a map that stays below the binarisation threshold', () => {
    expect(regionsFromProbabilityMap(syntheticMap(64, 48, 0.29, []), 64, 48)).toEqual([]);
  });

  it('keeps only the maxRegions best-scoring regions', () => {
    const map = syntheticMap(100, 20, 0, [0, 1, 2, 3].map((i) => ({ rect: [i * 25 + 2, 5, i * 25 + 20, 15] as TextBox, p: 0.65 + i * 0.1 })));
    const regions = regionsFromProbabilityMap(map, 100, 20, { maxRegions: 2 });
    expect(regions.map((r) => Math.round(r.score * 100))).toEqual([95, 85]);
  });
});

describe('inputSize', () => {
  it('shrinks to maxSide keeping aspect, snaps to multiples of 32, never enlarges', () => {
    expect(inputSize(640, 480, 640)).toEqual({ width: 640, height: 480 });
    expect(inputSize(1280, 720, 640)).toEqual({ width: 640, height: 352 });
    expect(inputSize(300, 100, 640)).toEqual({ width: 288, height: 96 });
    expect(inputSize(10, 10, 640)).toEqual({ width: 32, height: 32 });
  });
});

describe('TextDetector on rendered frames', () => {
  const W = 640;
  const H = 480;
  let detector: TextDetector;
  beforeAll(async () => {
    detector = await TextDetector.load({ modelPath: MODEL, threads: 1 });
  });
  afterAll(() => detector.close());

  const raw = async (input: Sharp) => {
    const { data, info } = await input.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  };

  /** Bounding box of the dark pixels, i.e. where the text actually rendered. */
  const inkBox = (rgb: Uint8Array): TextBox => {
    const box: TextBox = [W, H, 0, 0];
    for (let i = 0; i < W * H; i++) {
      if (rgb[i * 3]! > 128) continue;
      const x = i % W;
      const y = Math.floor(i / W);
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x + 1);
      box[3] = Math.max(box[3], y + 1);
    }
    return box;
  };

  it('finds a confident region where large dark text was drawn', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
      <rect width="100%" height="100%" fill="#ffffff"/>
      <text x="60" y="260" font-family="DejaVu Sans" font-size="48" fill="#111111">EXAM NOTES 2026</text>
    </svg>`;
    const rgb = await raw(sharp(Buffer.from(svg)));
    const ink = inkBox(rgb);
    expect(ink[2] - ink[0]).toBeGreaterThan(200); // the font rendered

    const result = await detector.detect(rgb, W, H);
    const hits = result.regions.filter((r) => overlaps(r.box, ink) && r.score > 0.6);
    expect(hits.length).toBeGreaterThanOrEqual(1);
    expect(result.score).toBeGreaterThan(0.6);
    for (const r of result.regions) {
      expect(r.box[0]).toBeGreaterThanOrEqual(0);
      expect(r.box[3]).toBeLessThanOrEqual(H);
    }
  });

  it.each(['#ffffff', '#808080'])('finds nothing in a plain %s frame', async (background) => {
    const rgb = await raw(sharp({ create: { width: W, height: H, channels: 3, background } }));
    expect(await detector.detect(rgb, W, H)).toEqual({ regions: [], score: 0 });
  });

  it('rejects a buffer that does not match the stated size', async () => {
    await expect(detector.detect(new Uint8Array(10), W, H)).rejects.toThrow(/bytes/);
  });
});
