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

/**
 * Source taps along one axis for an axis-aligned map: the two neighbouring indices and
 * their weights, with a neighbour outside the image weighted 0 (the generic sampler reads
 * it as black), so the fast path gives exactly the generic result.
 */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

function taps(count: number, scale: number, shift: number, size: number): Taps {
  const t: Taps = { i0: new Int32Array(count), i1: new Int32Array(count), w0: new Float32Array(count), w1: new Float32Array(count) };
  for (let k = 0; k < count; k++) {
    const pos = scale * k + shift;
    const p0 = Math.floor(pos);
    const f = pos - p0;
    const in0 = p0 >= 0 && p0 < size;
    const in1 = p0 + 1 >= 0 && p0 + 1 < size;
    t.i0[k] = in0 ? p0 : 0;
    t.i1[k] = in1 ? p0 + 1 : 0;
    t.w0[k] = in0 ? 1 - f : 0;
    t.w1[k] = in1 ? f : 0;
  }
  return t;
}

/**
 * Crop-and-resize (no rotation): the common case, done with precomputed taps. Channels
 * are unrolled with the per-channel constants hoisted (the pose model's 224×224 input is
 * sampled every frame); the arithmetic is the same, term for term, as a loop over them.
 */
function sampleAxisAligned(img: RgbImage, t: Affine, outW: number, outH: number, norm: Normalization, out: Float32Array, offset: number): void {
  const xs = taps(outW, t[0], t[2], img.width);
  const ys = taps(outH, t[4], t[5], img.height);
  const plane = outW * outH;
  const { data, width } = img;
  const dst = norm.bgr ? [2, 1, 0] : [0, 1, 2];
  const [a0, a1, a2] = dst.map((d) => norm.scale / norm.std[d]!) as [number, number, number];
  const [b0, b1, b2] = dst.map((d) => -norm.mean[d]! / norm.std[d]!) as [number, number, number];
  const [o0, o1, o2] = dst.map((d) => offset + d * plane) as [number, number, number];
  const { i0: xi0, i1: xi1, w0: xw0, w1: xw1 } = xs;
  for (let v = 0; v < outH; v++) {
    const r0 = ys.i0[v]! * width;
    const r1 = ys.i1[v]! * width;
    const wy0 = ys.w0[v]!;
    const wy1 = ys.w1[v]!;
    const row = v * outW;
    for (let u = 0; u < outW; u++) {
      const p00 = (r0 + xi0[u]!) * 3;
      const p01 = (r0 + xi1[u]!) * 3;
      const p10 = (r1 + xi0[u]!) * 3;
      const p11 = (r1 + xi1[u]!) * 3;
      const wx0 = xw0[u]!;
      const wx1 = xw1[u]!;
      const i = row + u;
      const c0 = (data[p00]! * wx0 + data[p01]! * wx1) * wy0 + (data[p10]! * wx0 + data[p11]! * wx1) * wy1;
      const c1 = (data[p00 + 1]! * wx0 + data[p01 + 1]! * wx1) * wy0 + (data[p10 + 1]! * wx0 + data[p11 + 1]! * wx1) * wy1;
      const c2 = (data[p00 + 2]! * wx0 + data[p01 + 2]! * wx1) * wy0 + (data[p10 + 2]! * wx0 + data[p11 + 2]! * wx1) * wy1;
      out[o0 + i] = c0 * a0 + b0;
      out[o1 + i] = c1 * a1 + b1;
      out[o2 + i] = c2 * a2 + b2;
    }
  }
}

/** Writes a normalised planar (CHW) RGB tensor of outW × outH into `out` at `offset`. */
export function sampleRgbPlanar(img: RgbImage, t: Affine, outW: number, outH: number, norm: Normalization, out: Float32Array, offset = 0): void {
  if (t[1] === 0 && t[3] === 0) return sampleAxisAligned(img, t, outW, outH, norm, out, offset);
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

/**
 * Samples an interleaved 8-bit RGB image (for crops that leave the process as JPEG): the
 * bilinear sample above, with the position, weights and bounds worked out once per pixel
 * rather than once per channel (same arithmetic, same bytes).
 */
export function sampleRgbImage(img: RgbImage, t: Affine, outW: number, outH: number): RgbImage {
  const out = new Uint8Array(outW * outH * 3);
  const { width: w, height: h, data } = img;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      const x = t[0] * u + t[1] * v + t[2];
      const y = t[3] * u + t[4] * v + t[5];
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
      const inY0 = y0 >= 0 && y0 < h;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
      // -1: outside the image, read as 0.
      const p00 = inX0 && inY0 ? (y0 * w + x0) * 3 : -1;
      const p01 = inX1 && inY0 ? (y0 * w + x0 + 1) * 3 : -1;
      const p10 = inX0 && inY1 ? ((y0 + 1) * w + x0) * 3 : -1;
      const p11 = inX1 && inY1 ? ((y0 + 1) * w + x0 + 1) * 3 : -1;
      const i = (v * outW + u) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (p00 < 0 ? 0 : data[p00 + c]!) * (1 - fx) + (p01 < 0 ? 0 : data[p01 + c]!) * fx;
        const bottom = (p10 < 0 ? 0 : data[p10 + c]!) * (1 - fx) + (p11 < 0 ? 0 : data[p11 + c]!) * fx;
        out[i + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width: outW, height: outH, data: out };
}
