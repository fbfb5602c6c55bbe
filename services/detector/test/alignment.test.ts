import { ARCFACE_TEMPLATE, fivePoints, similarityFromTemplate } from '../src/pipeline/alignment.js';
import { rectToAffine, sampleGray, sampleRgbImage, sampleRgbPlanar, type RgbImage } from '../src/pipeline/sampler.js';

const apply = (t: readonly number[], u: number, v: number) => [t[0]! * u + t[1]! * v + t[2]!, t[3]! * u + t[4]! * v + t[5]!];

describe('5-point alignment', () => {
  it('is the identity for points already on the template', () => {
    const t = similarityFromTemplate(ARCFACE_TEMPLATE);
    [1, 0, 0, 0, 1, 0].forEach((v, i) => expect(t[i]).toBeCloseTo(v, 6));
  });

  it('recovers a rotation, scale and shift exactly', () => {
    const angle = 0.3;
    const s = 2.5;
    const truth = [s * Math.cos(angle), -s * Math.sin(angle), 40, s * Math.sin(angle), s * Math.cos(angle), -12];
    const points = ARCFACE_TEMPLATE.map(([u, v]) => apply(truth, u, v) as [number, number]);
    const t = similarityFromTemplate(points);
    truth.forEach((v, i) => expect(t[i]).toBeCloseTo(v, 6));
  });

  it('takes eye centres, nose tip and mouth corners from 68 landmarks', () => {
    const lm = new Float32Array(136).map((_, i) => i);
    const [leftEye, rightEye, nose, mouthLeft, mouthRight] = fivePoints(lm);
    expect(leftEye).toEqual([((36 + 41) / 2) * 2, ((36 + 41) / 2) * 2 + 1]);
    expect(rightEye).toEqual([((42 + 47) / 2) * 2, ((42 + 47) / 2) * 2 + 1]);
    expect(nose).toEqual([60, 61]);
    expect(mouthLeft).toEqual([96, 97]);
    expect(mouthRight).toEqual([108, 109]);
  });
});

describe('sampler', () => {
  // 4×2 image whose red channel is 10·x, green 10·y, blue constant 200.
  const img: RgbImage = { width: 4, height: 2, data: new Uint8Array(24).map((_, i) => [10 * ((i / 3) % 4 | 0), 10 * ((i / 12) | 0), 200][i % 3]!) };

  it('maps a rect onto an output grid at pixel centres', () => {
    const t = rectToAffine([0, 0, 4, 2], 2, 1);
    expect(apply(t, 0, 0)).toEqual([0.5, 0.5]);
    expect(apply(t, 1, 0)).toEqual([2.5, 0.5]);
  });

  it('samples bilinearly and normalises per channel, in RGB or BGR order', () => {
    const out = new Float32Array(3);
    sampleRgbPlanar(img, [0, 0, 1.5, 0, 0, 0], 1, 1, { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }, out);
    expect(Array.from(out)).toEqual([15, 0, 200]);
    sampleRgbPlanar(img, [0, 0, 1.5, 0, 0, 0.5], 1, 1, { scale: 0.5, mean: [0, 0, 0], std: [1, 1, 2], bgr: true }, out);
    expect(Array.from(out)).toEqual([100, 2.5, 3.75]);
  });

  it('reads outside the image as black and converts to grey with BT.601 weights', () => {
    const out = new Float32Array(2);
    sampleGray(img, [1, 0, 0, 0, 1, 0], 2, 1, 1, out);
    expect(out[0]).toBeCloseTo(0.114 * 200, 4);
    const outside = sampleRgbImage(img, [0, 0, -5, 0, 0, -5], 1, 1);
    expect(Array.from(outside.data)).toEqual([0, 0, 0]);
  });
});

describe('sampler fast path', () => {
  it('gives the generic (rotating) path\'s result for crops inside and across the image edge', () => {
    const w = 37;
    const h = 23;
    const img: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3).map((_, i) => (i * 7919) % 251) };
    const norm = { scale: 1 / 255, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3], bgr: true } as const;
    for (const rect of [[3, 2, 30, 20], [-5, -4, 40, 30], [10.3, 4.7, 12.9, 9.1]] as const) {
      const t = rectToAffine(rect, 16, 12);
      const fast = new Float32Array(3 * 16 * 12);
      const generic = new Float32Array(3 * 16 * 12);
      sampleRgbPlanar(img, t, 16, 12, norm, fast);
      sampleRgbPlanar(img, [t[0], 1e-12, t[2], 1e-12, t[4], t[5]], 16, 12, norm, generic);
      fast.forEach((v, i) => expect(v).toBeCloseTo(generic[i]!, 3));
    }
  });
});
