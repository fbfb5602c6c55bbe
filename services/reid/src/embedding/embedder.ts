import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { createModelSession, int8Alternative, makeBatchDynamic, type CalibrationSettings } from '@lookout/onnx-kit';
import { normalize } from './vector-codec.js';

export const EMBEDDING_DIM = 512;
/** Side of the aligned crop the model takes (pixels). */
export const CROP_SIDE = 112;
const SIDE = CROP_SIDE;

/** A decoded aligned crop: 112×112 interleaved RGB plus its sharpness. */
export interface DecodedCrop {
  rgb: Uint8Array;
  /** Variance of the Laplacian of the grey image: low = blurred (quality.ts). */
  sharpness: number;
}

export class BadCropError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadCropError';
  }
}

/**
 * Face embeddings from 5-point-aligned 112×112 crops (ArcFace template, made by the
 * detector). Output vectors are L2-normalised, so cosine similarity is a dot product.
 * All crops of a frame go through one inference once the batch dimension is symbolic.
 */
export class FaceEmbedder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly batchable: boolean,
  ) {}

  /** `sessions`: how session options are chosen (@lookout/onnx-kit calibration; timed at batch 1). */
  static async load(modelPath: string, threads: number, batch = true, sessions?: CalibrationSettings): Promise<FaceEmbedder> {
    const bytes = await readFile(modelPath);
    const model = (batch && makeBatchDynamic(bytes)) || bytes;
    // An int8 variant made by `npm run models` (fixture EER 0.17%, docs/models.md) is measured beside it.
    const alternatives = await int8Alternative(modelPath, (b) => (batch && makeBatchDynamic(b)) || b);
    const { session } = await createModelSession({ file: modelPath, bytes: model, threads, alternatives }, sessions);
    const meta = session.inputMetadata[0];
    const batchDim = meta && 'shape' in meta ? meta.shape[0] : 1;
    return new FaceEmbedder(session, typeof batchDim !== 'number' || batchDim < 1);
  }

  /** Decodes a JPEG/PNG aligned crop; throws BadCropError when it is not a 112×112 image. */
  static async decode(image: Uint8Array): Promise<DecodedCrop> {
    let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
    try {
      raw = await sharp(image).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new BadCropError(`crop: not a decodable image (${(err as Error).message})`);
    }
    if (raw.info.width !== SIDE || raw.info.height !== SIDE || raw.info.channels !== 3) {
      throw new BadCropError(`crop: expected ${SIDE}×${SIDE} RGB, got ${raw.info.width}×${raw.info.height}×${raw.info.channels}`);
    }
    const rgb = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
    return { rgb, sharpness: laplacianVariance(rgb) };
  }

  async embed(crops: DecodedCrop[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    if (!this.batchable) {
      const out: Float32Array[] = [];
      for (const c of crops) out.push(...(await this.run([c])));
      return out;
    }
    return this.run(crops);
  }

  private async run(crops: DecodedCrop[]): Promise<Float32Array[]> {
    const plane = SIDE * SIDE;
    const input = new Float32Array(crops.length * 3 * plane);
    crops.forEach((c, n) => {
      const base = n * 3 * plane;
      for (let i = 0; i < plane; i++) {
        // RGB planar, (p − 127.5) / 128: the preprocessing the model was trained with.
        input[base + i] = (c.rgb[i * 3]! - 127.5) / 128;
        input[base + plane + i] = (c.rgb[i * 3 + 1]! - 127.5) / 128;
        input[base + 2 * plane + i] = (c.rgb[i * 3 + 2]! - 127.5) / 128;
      }
    });
    const feeds = { [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [crops.length, 3, SIDE, SIDE]) };
    const result = await this.session.run(feeds);
    const data = result[this.session.outputNames[0]!]!.data as Float32Array;
    const dim = data.length / crops.length;
    return crops.map((_, n) => normalize(Float32Array.from(data.subarray(n * dim, (n + 1) * dim))));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Variance of the 4-neighbour Laplacian over the grey crop, ignoring the border. */
export function laplacianVariance(rgb: Uint8Array, side = SIDE): number {
  const grey = new Float32Array(side * side);
  for (let i = 0; i < grey.length; i++) grey[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const i = y * side + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - side]! + grey[i + side]! - 4 * grey[i]!;
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
