import type { Rect } from '@lookout/contracts';
import { rectToAffine } from '../pipeline/sampler.js';
import { softmax, type FaceModelSpec } from './face-model.js';

export interface HeadPose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** Expected bin index × 3° − 99°: the model's 66 bins cover −99°…+99°. */
export function binsToDegrees(logits: ArrayLike<number>): number {
  return softmax(logits).reduce((acc, p, i) => acc + p * i, 0) * 3 - 99;
}

const IMAGENET = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;

/** Head pose from the face box grown by a quarter on each side, clipped to the image. */
export const poseSpec: FaceModelSpec<HeadPose> = {
  name: 'pose',
  width: 224,
  height: 224,
  format: { channels: 3, normalization: IMAGENET },
  regions(face, image) {
    const [x1, y1, x2, y2] = face.box;
    const dw = (x2 - x1) / 4;
    const dh = (y2 - y1) / 4;
    const rect: Rect = [Math.max(0, x1 - dw), Math.max(0, y1 - dh), Math.min(image.width, x2 + dw), Math.min(image.height, y2 + dh)];
    return [rectToAffine(rect, 224, 224)];
  },
  decode([out]) {
    const r = (v: number) => Math.round(v * 10) / 10;
    return { yaw: r(binsToDegrees(out!.output!)), pitch: r(binsToDegrees(out!['617']!)), roll: r(binsToDegrees(out!['618']!)) };
  },
};
