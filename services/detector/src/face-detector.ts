import ort from 'onnxruntime-node';
import type { DetectedFace } from '@lookout/contracts';
import type { Rect } from '@lookout/contracts';
import { nms } from './nms.js';

export interface FaceDetectorOptions {
  modelPath: string;
  /** Minimum face score (0.65 measured on the fixtures: 37/39 faces, no false positive). */
  confidence: number;
  nmsIou: number;
  /** Faces whose shorter side is below this many original pixels are dropped. */
  minFaceSize: number;
  threads: number;
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
    const session = await ort.InferenceSession.create(opts.modelPath, {
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      graphOptimizationLevel: 'all',
    });
    return new FaceDetector(session, opts, new Float32Array(3 * DETECTOR_INPUT.width * DETECTOR_INPUT.height));
  }

  /** `rgb` is interleaved RGB at DETECTOR_INPUT size; boxes come back in original pixels. */
  async detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
    const plane = DETECTOR_INPUT.width * DETECTOR_INPUT.height;
    if (rgb.length !== plane * 3) throw new Error(`detector input must be ${plane * 3} bytes, got ${rgb.length}`);
    const x = this.input;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      x[i] = (rgb[p]! - 127) / 128;
      x[plane + i] = (rgb[p + 1]! - 127) / 128;
      x[2 * plane + i] = (rgb[p + 2]! - 127) / 128;
    }
    const tensor = new ort.Tensor('float32', x, [1, 3, DETECTOR_INPUT.height, DETECTOR_INPUT.width]);
    const out = await this.session.run({ input: tensor });
    return this.decode(out.scores!.data as Float32Array, out.boxes!.data as Float32Array, width, height);
  }

  private decode(scores: Float32Array, boxes: Float32Array, width: number, height: number): DetectedFace[] {
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
      if (Math.min(box[2] - box[0], box[3] - box[1]) < this.opts.minFaceSize) continue;
      candidates.push({ box, score });
    }
    return nms(candidates, this.opts.nmsIou).map((c) => ({
      box: [round1(c.box[0]), round1(c.box[1]), round1(c.box[2]), round1(c.box[3])],
      score: Math.round(c.score * 1e4) / 1e4,
    }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round1 = (v: number) => Math.round(v * 10) / 10;
