#!/usr/bin/env node
// EER of embedding model files on the fixture identities, as services/reid/test/verification.test.ts
// computes it (real detector + alignment), for each file and mixed (enrolled with the first,
// searched with the second); also on the held-out half (the photos quantize-models.mjs did not
// calibrate with). Needs the project built.  node scripts/int8/eer.mjs fr_feature.onnx fr_feature.int8.onnx
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../../packages/service-kit/dist/index.js';
import { DetectorConfig } from '../../services/detector/dist/config.js';
import { CadenceTracker } from '../../services/detector/dist/pipeline/cadence.js';
import { FacePipeline } from '../../services/detector/dist/pipeline/face-pipeline.js';
import { defaultSettings, loadModels } from '../../services/detector/dist/models/models.js';
import { FaceEmbedder } from '../../services/reid/dist/embedding/embedder.js';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const IDS = path.join(ROOT, 'test/fixtures/faces/identities');
const config = loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models') });
const models = await loadModels(config);
const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide);
const settings = defaultSettings(config);
const crops = [];
for (const person of fs.readdirSync(IDS).sort()) for (const file of fs.readdirSync(path.join(IDS, person)).sort()) {
  const jpeg = await sharp(path.join(IDS, person, file)).jpeg({ quality: 95 }).toBuffer();
  let r = await pipeline.analyze(jpeg, settings);
  if (!r.faces.length) r = await pipeline.analyze(await sharp(jpeg).extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#808080' }).jpeg().toBuffer(), settings);
  const face = [...r.faces].sort((a, b) => b.score - a.score)[0];
  crops.push({ person, crop: await FaceEmbedder.decode(Buffer.from(face.crop.data, 'base64')) });
}
await models.close();
function eerOf(gen, imp) {
  let eer = 1;
  let at = 0;
  for (let t = 0; t <= 1; t += 0.0025) {
    const frr = gen.filter((s) => s < t).length / gen.length;
    const far = imp.filter((s) => s >= t).length / imp.length;
    if (Math.max(frr, far) < eer) { eer = Math.max(frr, far); at = t; }
  }
  return { eer, at };
}
const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const vecs = {};
for (const file of process.argv.slice(2)) {
  const e = await FaceEmbedder.load(path.join(ROOT, 'models', file), 1, true, { mode: 'extended' });
  const vs = []; for (const c of crops) vs.push((await e.embed([c.crop]))[0]);
  vecs[file] = vs;
  const gen = [], imp = [];
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) (crops[i].person === crops[j].person ? gen : imp).push(dot(vs[i], vs[j]));
  const { eer, at } = eerOf(gen, imp);
  const hg = [], hi = [];
  for (let i = 1; i < vs.length; i += 2) for (let j = i + 2; j < vs.length; j += 2) (crops[i].person === crops[j].person ? hg : hi).push(dot(vs[i], vs[j]));
  console.log(`${file}: held-out half (${hg.length} genuine / ${hi.length} impostor pairs): EER ${(eerOf(hg, hi).eer * 100).toFixed(2)}%`);
  const fa45 = imp.filter((s) => s >= 0.45).length / imp.length, fr45 = gen.filter((s) => s < 0.45).length / gen.length;
  console.log(`${file}: ${vs.length} faces, ${gen.length} genuine / ${imp.length} impostor pairs: EER ${(eer * 100).toFixed(2)}% (at ${at.toFixed(3)}), at 0.45: FAR ${(fa45 * 100).toFixed(2)}% FRR ${(fr45 * 100).toFixed(2)}%`);
  await e.close();
}
const files = Object.keys(vecs);
if (files.length === 2) { let mn = 1, sm = 0; vecs[files[0]].forEach((v, i) => { const c = dot(v, vecs[files[1]][i]); mn = Math.min(mn, c); sm += c; }); console.log(`cosine ${files[0]} vs ${files[1]} on the aligned crops: mean ${(sm / crops.length).toFixed(4)} min ${mn.toFixed(4)}`); }
if (files.length === 2) {
  const [A, B] = files.map((f) => vecs[f]);
  const gen = [], imp = [];
  for (let i = 0; i < A.length; i++) for (let j = 0; j < B.length; j++) { if (i === j) continue; (crops[i].person === crops[j].person ? gen : imp).push(dot(A[i], B[j])); }
  const { eer } = eerOf(gen, imp);
  console.log(`mixed (enrolled with ${files[0]}, searched with ${files[1]}): EER ${(eer * 100).toFixed(2)}%, at 0.45 FAR ${(imp.filter((s) => s >= 0.45).length / imp.length * 100).toFixed(2)}% FRR ${(gen.filter((s) => s < 0.45).length / gen.length * 100).toFixed(2)}%`);
}
