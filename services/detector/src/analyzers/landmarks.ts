import { rectToAffine } from '../pipeline/sampler.js';
import { scaledBoxInside, type FaceModelSpec } from './face-model.js';

/** 68-point landmarks from a grey 64×64 crop of the face box; outputs are box-relative. */
export const landmarkSpec: FaceModelSpec<Float32Array> = {
  name: 'landmarks',
  width: 64,
  height: 64,
  format: { channels: 1, grayScale: 1 / 256 },
  regions: (face, image) => [rectToAffine(scaledBoxInside(face.box, 1, image), 64, 64)],
  decode([out], face) {
    const raw = out!.output!;
    const [x1, y1, x2, y2] = face.box;
    const points = new Float32Array(136);
    for (let i = 0; i < 68; i++) {
      points[2 * i] = x1 + raw[2 * i]! * (x2 - x1);
      points[2 * i + 1] = y1 + raw[2 * i + 1]! * (y2 - y1);
    }
    return points;
  },
};
