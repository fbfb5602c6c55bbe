import ort from 'onnxruntime-node';
import { createModelSession, type CalibrationSettings } from '@lookout/onnx-kit';
import type { DetectedFace } from '@lookout/contracts';
import type { Rect } from '@lookout/contracts';
import { nms } from './nms.js';
import sharp from 'sharp';
import type { RgbImage } from '../pipeline/sampler.js';

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
    const { width, height } = DETECTOR_INPUT;
    const rgb = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    const x = this.input;
    const plane = width * height;
    // × 1/128 is exactly ÷ 128 (a power of two), and cheaper.
    const k = 1 / 128;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      x[i] = (rgb[p]! - 127) * k;
      x[plane + i] = (rgb[p + 1]! - 127) * k;
      x[2 * plane + i] = (rgb[p + 2]! - 127) * k;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', this.input, [1, 3, height, width]) });
    return this.decode(out.scores!.data as Float32Array, out.boxes!.data as Float32Array, image.width, image.height, minFaceSize);
  }

  private decode(scores: Float32Array, boxes: Float32Array, width: number, height: number, minFaceSize: number): Array<Pick<DetectedFace, 'box' | 'score'>> {
    const candidates: Array<{ box: Rect; score: number }> = [];
    const n = scores.length / 2;
    for (let i = 0; i < n; i++) {
      const score = scores[2 * i + 1]!;
      if (score < this.opts.confidence) continue;
      const box: Rect = [
        clamp(boxes[4 * i]! * width, 0, width),
        clamp(boxes[4 * i + 1]! * height, 0, height),
        clamp(boxes[4 * i + 2]! * width, 0, width),
        clamp(boxes[4 * i + 3]! * height, 0, height),
      ];
      if (Math.min(box[2] - box[0], box[3] - box[1]) < minFaceSize) continue;
      candidates.push({ box, score });
    }
    return nms(candidates, this.opts.nmsIou).map((c) => ({ box: [...c.box], score: Math.round(c.score * 1e4) / 1e4 }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

