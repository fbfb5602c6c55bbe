import ort from 'onnxruntime-node';
import { createModelSession, type CalibrationSettings } from '@lookout/onnx-kit';
import type { DetectedFace, Rect } from '@lookout/contracts';
import { nms } from './nms.js';
import sharp from 'sharp';
import { rectToAffine, sampleRgbPlanar, type Normalization, type RgbImage } from '../pipeline/sampler.js';

export interface FaceDetectorOptions {
  modelPath: string;
  /** Minimum face score (0.65 measured on the fixtures: 37/39 faces, no false positive). */
  confidence: number;
  nmsIou: number;
  /** Faces whose shorter side is below this many pixels are dropped (overridable per call). */
  minFaceSize: number;
  threads: number;
  /** How session options are chosen (@lookout/onnx-kit calibration); default: measured or cached beside the model. */
  sessions?: CalibrationSettings;
}

/** The model's input normalisation, (v − 127) / 128, for the sampler. */
const DETECTOR_NORM: Normalization = { scale: 1, mean: [127, 127, 127], std: [128, 128, 128] };
/**
 * Tiles shrunk by at most this much are sampled bilinearly; beyond it point-like sampling
 * aliases (see detect) and libvips shrinks them.
 */
const MAX_SAMPLED_SHRINK = 1.5;

/** The detector's fixed input size; frames are stretched to it. */
export const DETECTOR_INPUT = { width: 320, height: 240 } as const;

/**
 * RetinaFace-style detector from the faceplugin package. Its outputs are already decoded:
 * `scores` [1, N, 2] softmaxed (index 1 = face), `boxes` [1, N, 4] normalised x1 y1 x2 y2.
 */
export class FaceDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly opts: FaceDetectorOptions,
    private readonly input: Float32Array,
  ) {}

  static async load(opts: FaceDetectorOptions): Promise<FaceDetector> {
    const { session } = await createModelSession({ file: opts.modelPath, threads: opts.threads }, opts.sessions);
    return new FaceDetector(session, opts, new Float32Array(3 * DETECTOR_INPUT.width * DETECTOR_INPUT.height));
  }

  /**
   * Faces in `image` pixels; the whole image is stretched to the model's input, as trained.
   * libvips does the shrink: a point-sampling resize aliases on large frames and loses faces
   * (36 instead of 37 of the 39 fixture faces).
   */
  async detect(image: RgbImage, minFaceSize = this.opts.minFaceSize): Promise<Array<Pick<DetectedFace, 'box' | 'score'>>> {
    return this.detectIn(image, [0, 0, image.width, image.height], minFaceSize);
  }

  /**
   * Faces inside `region` of `image` (a tile), in `image` pixels, boxes clipped to the
   * region. The region is stretched to the model's input like a whole frame; the tiler
   * (tiling.ts) gives it the model's aspect ratio so nothing is distorted.
   */
  async detectIn(image: RgbImage, region: Rect, minFaceSize = this.opts.minFaceSize): Promise<Array<Pick<DetectedFace, 'box' | 'score'>>> {
    const { width, height } = DETECTOR_INPUT;
    const [left, top, right, bottom] = region.map(Math.round) as [number, number, number, number];
    const whole = left <= 0 && top <= 0 && right >= image.width && bottom >= image.height;
    if (!whole && (right - left) / width <= MAX_SAMPLED_SHRINK) {
      // A tile near the model's scale: the bilinear sampler writes the input tensor
      // directly, without a libvips round trip of the whole frame per tile (half a tile's cost).
      sampleRgbPlanar(image, rectToAffine([left, top, right, bottom], width, height), width, height, DETECTOR_NORM, this.input);
    } else {
      let img = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
      // The whole frame is not "extracted": the same libvips call as before tiling existed.
      if (!whole) img = img.extract({ left, top, width: right - left, height: bottom - top });
      this.fill(await img.resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer());
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', this.input, [1, 3, height, width]) });
    return this.decode(out.scores!.data as Float32Array, out.boxes!.data as Float32Array, [left, top, right, bottom], minFaceSize);
  }

  /** Interleaved RGB to the model's planar input, (v − 127) / 128. */
  private fill(rgb: Buffer): void {
    const x = this.input;
    const plane = DETECTOR_INPUT.width * DETECTOR_INPUT.height;
    // × 1/128 is exactly ÷ 128 (a power of two), and cheaper.
    const k = 1 / 128;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      x[i] = (rgb[p]! - 127) * k;
      x[plane + i] = (rgb[p + 1]! - 127) * k;
      x[2 * plane + i] = (rgb[p + 2]! - 127) * k;
    }
  }

  private decode(scores: Float32Array, boxes: Float32Array, region: Rect, minFaceSize: number): Array<Pick<DetectedFace, 'box' | 'score'>> {
    const candidates: Array<{ box: Rect; score: number }> = [];
    const [x0, y0, x1, y1] = region;
    const w = x1 - x0;
    const h = y1 - y0;
    const n = scores.length / 2;
    for (let i = 0; i < n; i++) {
      const score = scores[2 * i + 1]!;
      if (score < this.opts.confidence) continue;
      const box: Rect = [
        clamp(x0 + boxes[4 * i]! * w, x0, x1),
        clamp(y0 + boxes[4 * i + 1]! * h, y0, y1),
        clamp(x0 + boxes[4 * i + 2]! * w, x0, x1),
        clamp(y0 + boxes[4 * i + 3]! * h, y0, y1),
      ];
      if (Math.min(box[2] - box[0], box[3] - box[1]) < minFaceSize) continue;
      candidates.push({ box, score });
    }
    return nms(candidates, this.opts.nmsIou).map((c) => ({ box: [...c.box], score: Math.round(c.score * 1e4) / 1e4 }));
  }

  /** IoU above which overlapping boxes are one face (NMS), for merging across tiles. */
  get nmsIou(): number {
    return this.opts.nmsIou;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

