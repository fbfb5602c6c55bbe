import type { Rect } from '@lookout/contracts';

/** Decoded frame: interleaved 8-bit RGB. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Maps an output pixel (u, v) to a source position: x = a·u + b·v + c, y = d·u + e·v + f.
 * Every model input (crop + resize, rotation, 5-point alignment) is one of these, so a
 * single sampler serves all of them.
 */
export type Affine = readonly [number, number, number, number, number, number];

/** Per-channel normalisation: value = (pixel · scale − mean[c]) / std[c]. */
export interface Normalization {
  scale: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** Feed channels as B, G, R (for models trained on OpenCV images). */
  bgr?: boolean;
}

/** Affine that samples `rect` (source pixels) onto an outW × outH grid. */
export function rectToAffine(rect: Rect, outW: number, outH: number): Affine {
  const sx = (rect[2] - rect[0]) / outW;
  const sy = (rect[3] - rect[1]) / outH;
  // Pixel centres: output centre u+0.5 maps to rect[0] + (u+0.5)·sx, minus 0.5 back to index space.
  return [sx, 0, rect[0] + 0.5 * sx - 0.5, 0, sy, rect[1] + 0.5 * sy - 0.5];
}

/** Bilinear sample of one channel at (x, y); outside the image reads as 0. */
function sample(img: RgbImage, x: number, y: number, ch: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const { width: w, height: h, data } = img;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= w || yy >= h ? 0 : data[(yy * w + xx) * 3 + ch]!);
  const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
  const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Writes a normalised planar (CHW) RGB tensor of outW × outH into `out` at `offset`. */
export function sampleRgbPlanar(img: RgbImage, t: Affine, outW: number, outH: number, norm: Normalization, out: Float32Array, offset = 0): void {
  const plane = outW * outH;
  const order = norm.bgr ? [2, 1, 0] : [0, 1, 2];
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      const x = t[0] * u + t[1] * v + t[2];
      const y = t[3] * u + t[4] * v + t[5];
      const i = offset + v * outW + u;
      for (let c = 0; c < 3; c++) {
        const src = order[c]!;
        out[i + c * plane] = (sample(img, x, y, src) * norm.scale - norm.mean[c]!) / norm.std[c]!;
      }
    }
  }
}

/** Writes a grey (BT.601 luma) tensor of outW × outH, value = luma · scale. */
export function sampleGray(img: RgbImage, t: Affine, outW: number, outH: number, scale: number, out: Float32Array, offset = 0): void {
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      const x = t[0] * u + t[1] * v + t[2];
      const y = t[3] * u + t[4] * v + t[5];
      const luma = 0.299 * sample(img, x, y, 0) + 0.587 * sample(img, x, y, 1) + 0.114 * sample(img, x, y, 2);
      out[offset + v * outW + u] = luma * scale;
    }
  }
}

/** Samples an interleaved 8-bit RGB image (for crops that leave the process as JPEG). */
export function sampleRgbImage(img: RgbImage, t: Affine, outW: number, outH: number): RgbImage {
  const data = new Uint8Array(outW * outH * 3);
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      const x = t[0] * u + t[1] * v + t[2];
      const y = t[3] * u + t[4] * v + t[5];
      const i = (v * outW + u) * 3;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round(sample(img, x, y, c));
    }
  }
  return { width: outW, height: outH, data };
}
