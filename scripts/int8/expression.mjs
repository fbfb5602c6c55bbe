#!/usr/bin/env node
// Expression fp32 vs int8 the way the detector runs them: every fixture face found by the
// real face detector (116 identity photos, 7 labelled expression photos, the group photos),
// its box sampled to 224×224 as the service does. Reports top-1 agreement with fp32, and, as
// the yardstick, fp32's agreement with itself when the box moves 2 px (a detector's box
// moves that much between two frames of a still face). Also the labelled photos read right.
// Needs a build (npx tsc -b), the models and models/fr_expression.int8.onnx:
//   node scripts/quantize-models.mjs --models fr_expression && node scripts/int8/expression.mjs
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(path.join(ROOT, 'services/detector/dist', p));
const { FaceDetector } = await dist('models/face-detector.js');
const { FaceModel } = await dist('analyzers/face-model.js');
const { expressionSpec } = await dist('analyzers/expression.js');
const { decodeFrame } = await dist('pipeline/frame-decoder.js');
const FACES = path.join(ROOT, 'test/fixtures/faces');
const MODELS = path.join(ROOT, 'models');
const fixed = { mode: 'all' };

const list = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? list(path.join(dir, e.name)) : /\.jpe?g$/i.test(e.name) ? [path.join(dir, e.name)] : []));
const sets = { identities: list(path.join(FACES, 'identities')).sort(), expressions: list(path.join(FACES, 'expressions')).sort(), group: list(path.join(FACES, 'group')).sort() };
const detector = await FaceDetector.load({ modelPath: path.join(MODELS, 'fr_detect.onnx'), confidence: 0.65, nmsIou: 0.4, minFaceSize: 16, threads: 1, sessions: fixed });
// The spec without its int8 flag, so each file is loaded as it is.
const spec = { ...expressionSpec, int8: false };
const fp32 = await FaceModel.load(spec, path.join(MODELS, 'fr_expression.onnx'), 1, true, fixed);
const int8 = await FaceModel.load(spec, path.join(MODELS, 'fr_expression.int8.onnx'), 1, true, fixed);
const LABEL = { angry: 'angry', disgusted: 'disgust', fearful: 'fear', happy: 'happy', neutral: 'neutral', sad: 'sad', surprised: 'surprise' };

const shift = (b, d) => [b[0] + d, b[1] + d, b[2] + d, b[3] + d];
for (const [set, files] of Object.entries(sets)) {
  let faces = 0;
  let same = 0;
  let jitterSame = 0;
  const right = { fp32: 0, int8: 0 };
  for (const file of files) {
    const { image } = await decodeFrame(readFileSync(file), 1280);
    const found = (await detector.detect(image)).map((d) => ({ box: d.box }));
    if (found.length === 0) continue;
    const a = await fp32.run(image, found);
    const b = await int8.run(image, found);
    const j = await fp32.run(image, found.map((f) => ({ box: shift(f.box, 2) })));
    found.forEach((_, i) => {
      faces++;
      if (a[i].label === b[i].label) same++;
      if (a[i].label === j[i].label) jitterSame++;
    });
    const truth = LABEL[path.basename(file).replace(/^fa_|\.jpe?g$/g, '')];
    if (set === 'expressions' && truth) {
      if (a[0].label === truth) right.fp32++;
      if (b[0].label === truth) right.int8++;
    }
  }
  const pct = (n) => `${n}/${faces} (${Math.round((n / faces) * 100)}%)`;
  console.log(`${set}: ${faces} faces; int8 agrees with fp32 on ${pct(same)}; fp32 with its box moved 2 px agrees with fp32 on ${pct(jitterSame)}${set === 'expressions' ? `; labelled right: fp32 ${right.fp32}/7, int8 ${right.int8}/7` : ''}`);
}
await Promise.all([detector.close(), fp32.close(), int8.close()]);
