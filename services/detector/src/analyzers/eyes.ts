import type { Rect } from '@lookout/contracts';
import { rectToAffine } from '../pipeline/sampler.js';
import { softmax, type FaceContext, type FaceModelSpec } from './face-model.js';

export interface EyeState {
  /** Probability that the eye on the image's left (the subject's right eye) is open. */
  leftOpen: number;
  rightOpen: number;
}

/**
 * A square around one eye: centred on the mean of its upper and lower lid points, 1.6×
 * the corner-to-corner width. `first` is the landmark index of the eye's outer corner.
 */
function eyeRect(l: ArrayLike<number>, first: number): Rect {
  const x = (i: number) => l[2 * (first + i)]!;
  const y = (i: number) => l[2 * (first + i) + 1]!;
  const cx = (x(1) + x(2) + x(4) + x(5)) / 4;
  const cy = (y(1) + y(2) + y(4) + y(5)) / 4;
  const size = Math.max(2, (x(3) - x(0)) * 1.6);
  return [cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2];
}

/** Eye open/closed from grey 24×24 crops of each eye; classes are [closed, open]. */
export const eyeSpec: FaceModelSpec<EyeState | undefined> = {
  name: 'eyes',
  width: 24,
  height: 24,
  format: { channels: 1, grayScale: 1 / 255 },
  regions: (face: FaceContext) => (face.landmarks ? [36, 42].map((first) => rectToAffine(eyeRect(face.landmarks!, first), 24, 24)) : []),
  decode(outputs) {
    if (outputs.length !== 2) return undefined;
    const open = (o: Record<string, Float32Array>) => Math.round(softmax(o.output!)[1]! * 1000) / 1000;
    return { leftOpen: open(outputs[0]!), rightOpen: open(outputs[1]!) };
  },
};
