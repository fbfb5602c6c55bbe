import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeFrame } from '../src/pipeline/frame-decoder.js';
import { FaceDetector } from '../src/models/face-detector.js';
import { FaceModel, type FaceContext, type FaceModelSpec } from '../src/analyzers/face-model.js';
import { landmarkSpec } from '../src/analyzers/landmarks.js';
import { poseSpec } from '../src/analyzers/pose.js';
import { eyeSpec } from '../src/analyzers/eyes.js';
import { expressionSpec } from '../src/analyzers/expression.js';
import { livenessSpec } from '../src/analyzers/liveness.js';
import type { RgbImage } from '../src/pipeline/sampler.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const model = (f: string) => path.join(ROOT, 'models', f);

describe('batched per-face inference', () => {
  let image: RgbImage;
  let faces: FaceContext[];

  beforeAll(async () => {
    const jpeg = fs.readFileSync(path.resolve(ROOT, 'test/fixtures/faces/group/fa_bbt4.jpg'));
    ({ image } = await decodeFrame(jpeg, 1280));
    const detector = await FaceDetector.load({ modelPath: model('fr_detect.onnx'), confidence: 0.65, nmsIou: 0.4, minFaceSize: 0, threads: 1 });
    faces = (await detector.detect(image)).map((d) => ({ box: d.box }));
    await detector.close();
    const lm = await FaceModel.load(landmarkSpec, model('fr_landmark.onnx'), 1, false);
    const points = await lm.run(image, faces);
    faces.forEach((f, i) => (f.landmarks = points[i]));
    await lm.close();
    expect(faces).toHaveLength(6);
  });

  const cases: Array<[string, FaceModelSpec<unknown>, string]> = [
    ['landmarks', landmarkSpec, 'fr_landmark.onnx'],
    ['pose (Reshape shapes patched)', poseSpec, 'fr_pose.onnx'],
    ['eyes (two inputs per face)', eyeSpec, 'fr_eye.onnx'],
    ['expression', expressionSpec, 'fr_expression.onnx'],
    ['liveness', livenessSpec, 'fr_liveness.onnx'],
  ];

  it.each(cases)('%s: one batched run equals one run per face', async (_name, allowed, file) => {
    // fp32 both: with an int8 file beside the model, each load's calibration could choose
    // a different precision, and this compares batching, not precisions.
    const spec = { ...allowed, int8: false };
    const single = await FaceModel.load(spec, model(file), 1, false);
    const batched = await FaceModel.load(spec, model(file), 1, true);
    expect(single.batched).toBe(false);
    expect(batched.batched).toBe(true);
    const a = await single.run(image, faces);
    const b = await batched.run(image, faces);
    expect(JSON.parse(JSON.stringify(b, (_k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)))).toEqual(
      JSON.parse(JSON.stringify(a, (_k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))),
    );
    await Promise.all([single.close(), batched.close()]);
  });
});
