import ort from 'onnxruntime-node';
import { createModelSession, type CalibrationSettings } from '@lookout/onnx-kit';
import { rectToAffine, sampleRgbPlanar, type Normalization } from '../pipeline/sampler.js';

/** x1 y1 x2 y2; edges, so a one-pixel region at (x, y) is [x, y, x + 1, y + 1]. */
export type TextBox = [number, number, number, number];

export interface TextRegion {
  /** Original image pixels. */
  box: TextBox;
  /** Mean text probability over the region's pixels. */
  score: number;
}

export interface TextDetection {
  regions: TextRegion[];
  /** The highest region score; 0 when there is no region. */
  score: number;
}

export interface TextDetectorOptions {
  modelPath: string;
  threads: number;
  /** The longer side is scaled down to at most this (default 640); smaller images keep their size. */
  maxSide?: number;
  binThreshold?: number;
  boxThreshold?: number;
  /** Default 50; the highest-scoring regions are kept. */
  maxRegions?: number;
  /** How session options are chosen (@lookout/onnx-kit calibration); default: measured or cached beside the model. */
  sessions?: CalibrationSettings;
}

export interface RegionOptions {
  binThreshold: number;
  boxThreshold: number;
  /** Regions whose box has a side shorter than this (map pixels) are dropped. */
  minSize: number;
  maxRegions: number;
  /** The DB unclip ratio: the shrunk text kernel grows back by area * ratio / perimeter. */
  unclipRatio: number;
}

export const DEFAULT_REGION_OPTIONS: RegionOptions = { binThreshold: 0.3, boxThreshold: 0.6, minSize: 3, maxRegions: 50, unclipRatio: 1.5 };

// PaddleOCR's detection preprocessing: ImageNet statistics, applied to the image as OpenCV
// loads it (BGR), so mean[0] / std[0] belong to the blue channel.
const PPOCR_NORMALIZATION: Normalization = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], bgr: true };
// The network downsamples by 32, so both input sides must be multiples of it.
const STRIDE = 32;

/**
 * PP-OCRv4 text detection (DB algorithm). The model maps an image to a per-pixel text
 * probability map of the same size; regions are the connected blobs of that map.
 */
export class TextDetector {
  private input = new Float32Array(0);

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly maxSide: number,
    private readonly regionOpts: RegionOptions,
  ) {}

  static async load(opts: TextDetectorOptions): Promise<TextDetector> {
    const maxSide = opts.maxSide ?? 640;
    // Timed on the input a 1280×720 frame gets (the input size follows the frame).
    const probe = inputSize(1280, 720, maxSide);
    const { session } = await createModelSession({ file: opts.modelPath, threads: opts.threads, inputShapes: [[1, 3, probe.height, probe.width]] }, opts.sessions);
    const d = DEFAULT_REGION_OPTIONS;
    return new TextDetector(session, maxSide, {
      ...d,
      binThreshold: opts.binThreshold ?? d.binThreshold,
      boxThreshold: opts.boxThreshold ?? d.boxThreshold,
      maxRegions: opts.maxRegions ?? d.maxRegions,
    });
  }

  /** `rgb` is interleaved 8-bit RGB, width × height × 3 bytes. */
  async detect(rgb: Uint8Array, width: number, height: number): Promise<TextDetection> {
    if (!(width > 0 && height > 0) || rgb.length !== width * height * 3) {
      throw new Error(`text detector input must be ${width}x${height}x3 = ${width * height * 3} bytes, got ${rgb.length}`);
    }
    const { width: w, height: h } = inputSize(width, height, this.maxSide);
    if (this.input.length !== 3 * w * h) this.input = new Float32Array(3 * w * h);
    sampleRgbPlanar({ width, height, data: rgb }, rectToAffine([0, 0, width, height], w, h), w, h, PPOCR_NORMALIZATION, this.input);
    const feeds = { [this.session.inputNames[0]!]: new ort.Tensor('float32', this.input, [1, 3, h, w]) };
    const out = await this.session.run(feeds);
    const map = out[this.session.outputNames[0]!]!;
    const regions = regionsFromProbabilityMap(map.data as Float32Array, w, h, this.regionOpts).map((r) => ({
      box: scaleBox(r.box, width / w, height / h),
      score: Math.round(r.score * 1e4) / 1e4,
    }));
    return { regions, score: regions.reduce((m, r) => Math.max(m, r.score), 0) };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** PaddleOCR's "max" limit: only shrink, then snap each side to the nearest multiple of 32. */
export function inputSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  const snap = (v: number) => Math.max(STRIDE, Math.round((v * ratio) / STRIDE) * STRIDE);
  return { width: snap(width), height: snap(height) };
}

/**
 * DB post-processing on a w × h probability map; boxes come back in map pixels. Uses
 * 8-connectivity, as OpenCV's contour finding does in the reference implementation, and
 * axis-aligned boxes instead of rotated rectangles, which is enough to say where text is.
 */
export function regionsFromProbabilityMap(map: Float32Array, w: number, h: number, opts: Partial<RegionOptions> = {}): TextRegion[] {
  const o = { ...DEFAULT_REGION_OPTIONS, ...opts };
  if (map.length < w * h) throw new Error(`probability map has ${map.length} values, expected ${w * h}`);
  const visited = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const regions: TextRegion[] = [];
  for (let start = 0; start < w * h; start++) {
    if (visited[start] || map[start]! <= o.binThreshold) continue;
    const c = floodFill(map, w, h, start, o.binThreshold, visited, stack);
    const bw = c.x1 - c.x0;
    const bh = c.y1 - c.y0;
    if (Math.min(bw, bh) < o.minSize || c.score < o.boxThreshold) continue;
    // The model is trained on shrunk text kernels; grow the box back by the DB offset.
    const d = (bw * bh * o.unclipRatio) / (2 * (bw + bh));
    const box: TextBox = [Math.max(0, c.x0 - d), Math.max(0, c.y0 - d), Math.min(w, c.x1 + d), Math.min(h, c.y1 + d)];
    regions.push({ box, score: c.score });
  }
  return regions.sort((p, q) => q.score - p.score).slice(0, o.maxRegions);
}

interface Component {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

/** Iterative (explicit stack) so large blobs cannot overflow the call stack. */
function floodFill(map: Float32Array, w: number, h: number, start: number, threshold: number, visited: Uint8Array, stack: Int32Array): Component {
  let top = 0;
  stack[top++] = start;
  visited[start] = 1;
  let x0 = w, y0 = h, x1 = -1, y1 = -1, sum = 0, count = 0;
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % w;
    const y = (i - x) / w;
    sum += map[i]!;
    count++;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(h - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(w - 1, x + 1); nx++) {
        const n = ny * w + nx;
        if (visited[n] || map[n]! <= threshold) continue;
        visited[n] = 1;
        stack[top++] = n;
      }
    }
  }
  return { x0, y0, x1: x1 + 1, y1: y1 + 1, score: sum / count };
}

function scaleBox(box: TextBox, sx: number, sy: number): TextBox {
  const r = (v: number) => Math.round(v * 10) / 10;
  return [r(box[0] * sx), r(box[1] * sy), r(box[2] * sx), r(box[3] * sy)];
}
