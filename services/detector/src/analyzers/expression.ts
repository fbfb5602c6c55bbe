import { EXPRESSION_LABELS, type ExpressionLabel } from '@lookout/contracts';
import { rectToAffine } from '../pipeline/sampler.js';
import { softmax, type FaceModelSpec } from './face-model.js';

export interface ExpressionResult {
  label: ExpressionLabel;
  probabilities: Record<ExpressionLabel, number>;
}

/**
 * Seven-class expression from the face box, 224×224, scaled to 0…1, fed as BGR: on the
 * seven expression fixtures that reads 5 of 7 right, against 2–3 of 7 for RGB or for the
 * reference library's 1.2× crop (docs/detector.md). The model was trained on OpenCV images.
 */
export const expressionSpec: FaceModelSpec<ExpressionResult> = {
  name: 'expression',
  width: 224,
  height: 224,
  format: { channels: 3, normalization: { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], bgr: true } },
  // int8 with its first and last four convs in fp32 disagrees with fp32 on fewer faces than
  // fp32 does with itself when the crop moves 2 px, at ~55% of the time (docs/models.md).
  int8: true,
  regions: (face) => [rectToAffine(face.box, 224, 224)],
  decode([out]) {
    const p = softmax(out!.output!);
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
    const probabilities = Object.fromEntries(EXPRESSION_LABELS.map((l, i) => [l, Math.round(p[i]! * 1000) / 1000])) as Record<ExpressionLabel, number>;
    return { label: EXPRESSION_LABELS[best]!, probabilities };
  },
};
