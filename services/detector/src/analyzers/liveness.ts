import { rectToAffine } from '../pipeline/sampler.js';
import { scaledBoxInside, softmax, type FaceModelSpec } from './face-model.js';

/**
 * Anti-spoof score from the face with 2.7× context, 128×128, raw 0–255, fed as BGR (the
 * model was trained on OpenCV images: BGR scores 18 of 19 real fixture faces live, RGB 14);
 * class 0 = live. The crop is the reference library's (grown box shrunk to fit the frame,
 * then moved inside it); RGB, an antialiased resize, padding past the frame edge and other
 * scales were measured and all score real faces worse (docs/detector.md, liveness false alarms).
 */
export const livenessSpec: FaceModelSpec<number> = {
  name: 'liveness',
  width: 128,
  height: 128,
  format: { channels: 3, normalization: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1], bgr: true } },
  regions: (face, image) => [rectToAffine(scaledBoxInside(face.box, 2.7, image), 128, 128)],
  decode: ([out]) => Math.round(softmax(out!.output!)[0]! * 1000) / 1000,
};
