import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { createModelSession, int8Alternative, makeBatchDynamic, type CalibrationSettings } from '@lookout/onnx-kit';
import type { Rect } from '@lookout/contracts';
import { sampleGray, sampleRgbPlanar, type Affine, type Normalization, type RgbImage } from '../pipeline/sampler.js';

/** What a per-face model knows about a face when it runs. */
export interface FaceContext {
  box: Rect;
  /** 68 points, flat (x0, y0, x1, y1, …), original pixels; present after the landmark model. */
  landmarks?: ArrayLike<number>;
}

export type InputFormat = { channels: 3; normalization: Normalization } | { channels: 1; grayScale: number };

/**
 * One per-face model: where its input comes from, how it is normalised and how its
 * output is read. Everything model-specific lives in a spec; the runner is shared.
 */
export interface FaceModelSpec<R> {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly format: InputFormat;
  /**
   * An int8 file beside the model (`<name>.int8.onnx`, made by `npm run models`) may be
   * measured against it and used where faster: set only where its accuracy was checked
   * (docs/models.md, int8).
   */
  readonly int8?: boolean;
  /** One model input per region (the eye model runs once per eye). */
  regions(face: FaceContext, image: RgbImage): Affine[];
  /** Outputs of this face's regions, in order, keyed by output name. */
  decode(outputs: Array<Record<string, Float32Array>>, face: FaceContext): R;
}

/**
 * Runs a FaceModelSpec on every face of a frame. When the model's batch dimension is
 * symbolic, all regions of all faces go through one inference; otherwise one at a time.
 */
export class FaceModel<R> {
  private constructor(
    readonly spec: FaceModelSpec<R>,
    private readonly session: ort.InferenceSession,
    private readonly batchable: boolean,
  ) {}

  /**
   * `batch`: make the batch dimension symbolic (@lookout/onnx-kit) and run all faces at once.
   * `sessions`: how session options are chosen (calibration; timed at batch 1, one face).
   */
  static async load<R>(spec: FaceModelSpec<R>, modelPath: string, threads: number, batch = true, sessions?: CalibrationSettings): Promise<FaceModel<R>> {
    const bytes = await readFile(modelPath);
    const batchable = (b: Uint8Array) => (batch && makeBatchDynamic(b)) || b;
    const alternatives = spec.int8 ? await int8Alternative(modelPath, batchable) : [];
    const { session } = await createModelSession({ file: modelPath, bytes: batchable(bytes), threads, alternatives }, sessions);
    const meta = session.inputMetadata[0];
    const batchDim = meta && 'shape' in meta ? meta.shape[0] : 1;
    return new FaceModel(spec, session, typeof batchDim !== 'number' || batchDim < 1);
  }

  /** True when all faces of a frame go through one inference. */
  get batched(): boolean {
    return this.batchable;
  }

  get inputName(): string {
    return this.session.inputNames[0]!;
  }

  async run(image: RgbImage, faces: readonly FaceContext[]): Promise<R[]> {
    const regions = faces.map((f) => this.spec.regions(f, image));
    const all = regions.flat();
    if (all.length === 0) return faces.map((f) => this.spec.decode([], f));
    const outputs = this.batchable ? await this.infer(image, all) : await this.inferEach(image, all);
    let next = 0;
    return faces.map((face, i) => {
      const mine = outputs.slice(next, next + regions[i]!.length);
      next += regions[i]!.length;
      return this.spec.decode(mine, face);
    });
  }

  private async inferEach(image: RgbImage, all: Affine[]): Promise<Array<Record<string, Float32Array>>> {
    const out: Array<Record<string, Float32Array>> = [];
    for (const t of all) out.push(...(await this.infer(image, [t])));
    return out;
  }

  private async infer(image: RgbImage, all: Affine[]): Promise<Array<Record<string, Float32Array>>> {
    const { width: w, height: h, format } = this.spec;
    const size = format.channels * w * h;
    const input = new Float32Array(all.length * size);
    all.forEach((t, i) => {
      if (format.channels === 3) sampleRgbPlanar(image, t, w, h, format.normalization, input, i * size);
      else sampleGray(image, t, w, h, format.grayScale, input, i * size);
    });
    const result = await this.session.run({ [this.inputName]: new ort.Tensor('float32', input, [all.length, format.channels, h, w]) });
    return all.map((_, i) =>
      Object.fromEntries(
        Object.entries(result).map(([name, tensor]) => {
          const data = tensor.data as Float32Array;
          const per = data.length / all.length;
          return [name, data.subarray(i * per, (i + 1) * per)];
        }),
      ),
    );
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The box grown by `factor` around its centre, then moved (not shrunk) to lie inside the image where it fits. */
export function scaledBoxInside(box: Rect, factor: number, image: RgbImage): Rect {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const s = Math.min(factor, (image.width - 1) / w, (image.height - 1) / h);
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  let x1 = cx - (w * s) / 2;
  let y1 = cy - (h * s) / 2;
  x1 = Math.min(Math.max(0, x1), image.width - 1 - w * s);
  y1 = Math.min(Math.max(0, y1), image.height - 1 - h * s);
  return [x1, y1, x1 + w * s, y1 + h * s];
}
