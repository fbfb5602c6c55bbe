// Accuracy on the face fixtures, on the test half of test/fixtures/faces/split.json (the half no
// threshold was tuned on) with the tuning half beside it (docs/accuracy.md):
//   detection      recall / precision at the configured confidence, IoU ≥ 0.5 (and the
//                  manifest's 0.3) one-to-one against the manifest's group boxes; on the
//                  identity photos, whether a face is found; plus a confidence sweep
//   verification   genuine and impostor cosine similarities of the identity photos (the real
//                  detector's alignment crop, reid's FaceEmbedder, as
//                  services/reid/test/verification.test.ts embeds them): EER, FAR and FRR at
//                  the accept threshold, TAR at FAR 1 %, and an accept-threshold sweep
//   expression     7×7 confusion matrix, per-class recall, overall accuracy
// The figures do not depend on CPU speed; the file keeps the machine record like every bench
// (bench/results/<machine>/accuracy.json). Needs the project built (npx tsc -b) and the models.
//   npm run bench -- accuracy        or        node bench/accuracy.mjs
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, serviceKit, writeResult } from './lib.mjs';

const D = path.join(ROOT, 'services/detector/dist');
const R = path.join(ROOT, 'services/reid/dist');
const { DetectorConfig } = await import(path.join(D, 'config.js'));
const { loadModels, defaultSettings } = await import(path.join(D, 'models/models.js'));
const { FacePipeline } = await import(path.join(D, 'pipeline/face-pipeline.js'));
const { CadenceTracker } = await import(path.join(D, 'pipeline/cadence.js'));
const { FaceEmbedder } = await import(path.join(R, 'embedding/embedder.js'));
const { ReidConfig } = await import(path.join(R, 'config.js'));
const { iou, EXPRESSION_LABELS } = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const sharp = (await import('sharp')).default;

const FACES = testkit.FACE_FIXTURES;
const manifest = testkit.readFaceManifest();
const split = testkit.readFaceSplit();
const HALVES = ['test', 'tune'];
const r4 = (x) => (Number.isFinite(x) ? Math.round(x * 10000) / 10000 : null);

// The detector as the service runs it (its defaults), and the same with a low confidence for the sweep.
const defaults = serviceKit.loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models') });
const reidConfig = serviceKit.loadConfig(ReidConfig, { MODELS_DIR: path.join(ROOT, 'models') });
const CONFIDENCE = defaults.detectConfidence;
const ACCEPT = reidConfig.acceptSimilarity;
const SWEEP_FLOOR = 0.3;
/**
 * Every figure, with the models' session options chosen as the services choose them on this
 * machine (`auto`: int8 variants where calibration measured them faster) or fixed fp32
 * (`fp32`, what a machine without fast int8 runs). Tests must hold on both.
 */
async function measure(mode) {
  const calib = mode === 'fp32' ? { MODEL_CALIBRATION: 'all' } : {};
  const detectorConfig = serviceKit.loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), ...calib });
  const models = await loadModels(detectorConfig);
  const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), detectorConfig.maxAnalysisSide);
  const settings = defaultSettings(detectorConfig);
  const lowConfig = serviceKit.loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), ...calib, DETECT_CONFIDENCE: String(SWEEP_FLOOR), ANALYZERS: 'none' });
  const lowModels = await loadModels(lowConfig);
  const lowPipeline = new FacePipeline(lowModels.detector, lowModels.analyzers, new CadenceTracker(), lowConfig.maxAnalysisSide);
  const lowSettings = defaultSettings(lowConfig);
  const embedder = await FaceEmbedder.load(path.join(ROOT, 'models', reidConfig.featureModel), 1, true, mode === 'fp32' ? { mode: 'all' } : undefined);

  const file = (f) => fs.readFileSync(path.join(FACES, f));
  const pad = async (jpeg) => sharp(jpeg).extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#808080' }).jpeg().toBuffer();

  // ---- Detection

  /** One-to-one greedy matching (highest IoU first) of detections to annotated boxes. */
  function match(dets, boxes, ambiguous, minIou) {
    const pairs = [];
    dets.forEach((d, i) => boxes.forEach((b, j) => { const o = iou(d.box, b); if (o >= minIou) pairs.push([o, i, j]); }));
    pairs.sort((a, b) => b[0] - a[0]);
    const usedD = new Set();
    const usedB = new Set();
    for (const [, i, j] of pairs) if (!usedD.has(i) && !usedB.has(j)) { usedD.add(i); usedB.add(j); }
    // An unmatched detection on an ambiguous box is neither right nor wrong.
    const fp = dets.filter((d, i) => !usedD.has(i) && !ambiguous.some((b) => iou(d.box, b) >= minIou)).length;
    return { tp: usedB.size, fp };
  }

  const groupDets = new Map();
  for (const g of manifest.group) groupDets.set(g.file, (await lowPipeline.analyze(file(g.file), lowSettings)).faces.map((f) => ({ box: f.box, score: f.score })));
  const identityImages = Object.entries(manifest.identities).flatMap(([person, es]) => es.map((e) => ({ person, file: e.file, split: e.split })));
  const identityDets = new Map();
  for (const im of identityImages) {
    const jpeg = await sharp(file(im.file)).jpeg({ quality: 95 }).toBuffer();
    identityDets.set(im.file, (await lowPipeline.analyze(jpeg, lowSettings)).faces.map((f) => ({ box: f.box, score: f.score })));
  }

  function groupFigures(half, conf, minIou) {
    let boxes = 0, dets = 0, tp = 0, fp = 0;
    const photos = [];
    for (const g of manifest.group.filter((x) => x.split === half)) {
      const d = groupDets.get(g.file).filter((x) => x.score >= conf);
      const m = match(d, g.boxes, g.ambiguous_boxes, minIou);
      boxes += g.boxes.length; dets += d.length; tp += m.tp; fp += m.fp;
      photos.push({ file: g.file, faces: g.boxes.length, detections: d.length, found: m.tp, false_positives: m.fp });
    }
    return { photos: photos.length, faces: boxes, detections: dets, found: tp, false_positives: fp, recall: r4(tp / boxes), precision: r4((dets - fp) / dets), per_photo: photos };
  }

  function identityFigures(half, conf) {
    const ims = identityImages.filter((x) => x.split === half);
    const with1 = ims.filter((im) => identityDets.get(im.file).some((d) => d.score >= conf));
    const extra = ims.map((im) => Math.max(0, identityDets.get(im.file).filter((d) => d.score >= conf).length - 1));
    return {
      images: ims.length,
      found: with1.length,
      recall: r4(with1.length / ims.length),
      missed: ims.filter((im) => !with1.includes(im)).map((im) => im.file),
      images_with_extra_boxes: extra.filter((n) => n > 0).length,
      extra_boxes: extra.reduce((a, b) => a + b, 0),
    };
  }

  // The whole frame only (DETECTION_MODE=single, no tiles), for comparison with the default mode.
  const singleConfig = serviceKit.loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), ...calib, DETECTION_MODE: 'single', ANALYZERS: 'none' });
  const singleModels = await loadModels(singleConfig);
  const singlePipeline = new FacePipeline(singleModels.detector, singleModels.analyzers, new CadenceTracker(), singleConfig.maxAnalysisSide);
  const singleDets = new Map();
  for (const g of manifest.group) singleDets.set(g.file, (await singlePipeline.analyze(file(g.file), defaultSettings(singleConfig))).faces.map((f) => ({ box: f.box, score: f.score })));
  await singleModels.close();
  function singleFigures(half) {
    let boxes = 0, tp = 0, fp = 0, dets = 0;
    for (const g of manifest.group.filter((x) => x.split === half)) {
      const d = singleDets.get(g.file);
      const m = match(d, g.boxes, g.ambiguous_boxes, 0.5);
      boxes += g.boxes.length; dets += d.length; tp += m.tp; fp += m.fp;
    }
    return { faces: boxes, detections: dets, found: tp, false_positives: fp, recall: r4(tp / boxes) };
  }

  const sweepConfs = Array.from({ length: 14 }, (_, i) => Math.round((SWEEP_FLOOR + i * 0.05) * 100) / 100);
  const detection = {
    confidence: CONFIDENCE,
    min_face_size: detectorConfig.minFaceSize,
    note: 'group: one-to-one matching to the manifest boxes; a detection on an ambiguous box counts neither way. identities: no boxes annotated, so a photo counts as found when a face is detected (no pad-and-retry); extra boxes are not counted as false (some are real background faces)',
    group: Object.fromEntries(HALVES.map((h) => [h, { iou_0_5: groupFigures(h, CONFIDENCE, 0.5), iou_0_3: groupFigures(h, CONFIDENCE, 0.3) }])),
    identities: Object.fromEntries(HALVES.map((h) => [h, identityFigures(h, CONFIDENCE)])),
    group_single_mode: Object.fromEntries(HALVES.map((h) => [h, singleFigures(h)])),
    sweep: Object.fromEntries(HALVES.map((h) => [h, sweepConfs.map((c) => {
      const g = groupFigures(h, c, 0.5);
      const id = identityFigures(h, c);
      return { confidence: c, group_recall: g.recall, group_false_positives: g.false_positives, group_precision: g.precision, identity_recall: id.recall, identity_extra_boxes: id.extra_boxes };
    })])),
  };

  // ---- Verification (as services/reid/test/verification.test.ts embeds: best-scored face, pad-and-retry)

  const items = [];
  for (const im of identityImages) {
    const jpeg = await sharp(file(im.file)).jpeg({ quality: 95 }).toBuffer();
    let r = await pipeline.analyze(jpeg, settings);
    if (!r.faces.length) r = await pipeline.analyze(await pad(jpeg), settings);
    const face = [...r.faces].sort((a, b) => b.score - a.score)[0];
    if (!face?.crop) throw new Error(`${im.file}: no face`);
    const [v] = await embedder.embed([await FaceEmbedder.decode(Buffer.from(face.crop.data, 'base64'))]);
    items.push({ ...im, v });
  }
  const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
  function pairs(half) {
    const ims = items.filter((x) => half === 'all' || x.split === half);
    const genuine = [], impostor = [];
    for (let i = 0; i < ims.length; i++) for (let j = i + 1; j < ims.length; j++) {
      const s = dot(ims[i].v, ims[j].v);
      if (ims[i].person === ims[j].person) genuine.push({ s, a: ims[i].file, b: ims[j].file });
      else impostor.push({ s, a: ims[i].file, b: ims[j].file });
    }
    return { ims, genuine, impostor };
  }
  const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  const dist = (xs) => { const s = [...xs].sort((a, b) => a - b); return { n: s.length, min: r4(s[0]), p1: r4(q(s, 0.01)), p5: r4(q(s, 0.05)), p50: r4(q(s, 0.5)), p95: r4(q(s, 0.95)), p99: r4(q(s, 0.99)), max: r4(s.at(-1)) }; };
  const farAt = (imp, t) => imp.filter((s) => s >= t).length / imp.length;
  const frrAt = (gen, t) => gen.filter((s) => s < t).length / gen.length;
  function verificationFigures(half) {
    const { ims, genuine, impostor } = pairs(half);
    const gen = genuine.map((p) => p.s), imp = impostor.map((p) => p.s);
    // EER as the test computes it: the smallest max(FRR, FAR) over thresholds 0, 0.0025, …, 1.
    let eer = 1, eerAt = 0;
    for (let k = 0; k <= 400; k++) { const t = k / 400; const e = Math.max(frrAt(gen, t), farAt(imp, t)); if (e < eer) { eer = e; eerAt = t; } }
    // TAR at FAR ≤ 1 %: the lowest threshold (on the same grid) whose FAR is at most 1 %.
    let t1 = 1;
    for (let k = 0; k <= 400; k++) if (farAt(imp, k / 400) <= 0.01) { t1 = k / 400; break; }
    const zeroFar = [...imp].sort((a, b) => b - a)[0];
    return {
      people: new Set(ims.map((x) => x.person)).size, images: ims.length, genuine_pairs: gen.length, impostor_pairs: imp.length,
      genuine: dist(gen), impostor: dist(imp),
      eer: r4(eer), eer_threshold: eerAt,
      at_accept: { threshold: ACCEPT, far: r4(farAt(imp, ACCEPT)), frr: r4(frrAt(gen, ACCEPT)), false_accepts: imp.filter((s) => s >= ACCEPT).length, false_rejects: gen.filter((s) => s < ACCEPT).length },
      tar_at_far_1pct: { threshold: t1, tar: r4(1 - frrAt(gen, t1)), far: r4(farAt(imp, t1)) },
      lowest_zero_far_threshold: r4(zeroFar + 0.0001), frr_there: r4(frrAt(gen, zeroFar + 0.0001)),
      highest_impostors: [...impostor].sort((a, b) => b.s - a.s).slice(0, 3).map((p) => ({ similarity: r4(p.s), a: p.a, b: p.b })),
      lowest_genuines: [...genuine].sort((a, b) => a.s - b.s).slice(0, 3).map((p) => ({ similarity: r4(p.s), a: p.a, b: p.b })),
    };
  }
  const verification = {
    accept_similarity: ACCEPT,
    embedding: 'detector (service defaults) best-scored face, pad-and-retry when none, aligned 112×112 crop → FaceEmbedder (MODELS_DIR/fr_feature.onnx, 1 thread, session options as reid chooses them on this machine, or fixed fp32)',
    ...Object.fromEntries([...HALVES, 'all'].map((h) => [h, verificationFigures(h)])),
    accept_sweep: Object.fromEntries(HALVES.map((h) => {
      const { genuine, impostor } = pairs(h);
      return [h, [0.3, 0.35, 0.36, 0.4, 0.45, 0.5, 0.55].map((t) => ({ threshold: t, far: r4(farAt(impostor.map((p) => p.s), t)), frr: r4(frrAt(genuine.map((p) => p.s), t)) }))];
    })),
  };

  // ---- Expression (fixture labels angry, disgusted, fearful, … are the model's angry, disgust, fear, …)

  const LABEL = { disgusted: 'disgust', fearful: 'fear', surprised: 'surprise' };
  function expressionFigures(results) {
    const matrix = Object.fromEntries(EXPRESSION_LABELS.map((t) => [t, Object.fromEntries(EXPRESSION_LABELS.map((p) => [p, 0]))]));
    for (const r of results) matrix[r.truth][r.predicted]++;
    const perClass = Object.fromEntries(EXPRESSION_LABELS.map((t) => {
      const n = results.filter((r) => r.truth === t).length;
      return [t, { images: n, recall: n ? r4(matrix[t][t] / n) : null }];
    }));
    const right = results.filter((r) => r.truth === r.predicted).length;
    return { images: results.length, correct: right, accuracy: results.length ? r4(right / results.length) : null, top2_correct: results.filter((r) => r.top2.includes(r.truth)).length, per_class: perClass, confusion: matrix, images_detail: results };
  }
  const exprResults = [];
  for (const e of manifest.expressions) {
    const { faces } = await pipeline.analyze(file(e.file), settings);
    const face = [...faces].sort((a, b) => b.score - a.score)[0];
    const probs = face?.expression?.probabilities ?? {};
    const ranked = Object.entries(probs).sort((a, b) => b[1] - a[1]).map(([l]) => l);
    exprResults.push({ file: e.file, split: e.split, truth: LABEL[e.label] ?? e.label, predicted: face?.expression?.label ?? 'none', p_truth: probs[LABEL[e.label] ?? e.label] ?? 0, rank_truth: 1 + ranked.indexOf(LABEL[e.label] ?? e.label), top2: ranked.slice(0, 2) });
  }
  const expression = {
    labels: EXPRESSION_LABELS,
    note: 'one labelled image per class in the fixtures: every one is in the test half, the tuning half has none (nothing is tuned on them); a per-class recall is 0 or 1 from a single image',
    ...Object.fromEntries(HALVES.map((h) => [h, expressionFigures(exprResults.filter((r) => r.split === h))])),
  };

  await models.close();
  await lowModels.close();
  await embedder.close();
    return { detection, verification, expression };
}

// What `auto` chose here: the calibration cache's precision per model (threads 1).
function autoPrecision() {
  try {
    const cache = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/session-calibration.json'), 'utf8'));
    const out = {};
    for (const e of Object.values(cache.entries ?? {})) if (e.threads === 1 && ['fr_feature', 'fr_expression', 'fr_detect'].includes(e.model)) out[e.model] = e.precision;
    return out;
  } catch {
    return {};
  }
}

const byMode = {};
for (const mode of ['auto', 'fp32']) byMode[mode] = await measure(mode);
const result = {
  command: 'npm run bench -- accuracy (bench/accuracy.mjs)',
  split: { seed: split.seed, file: 'test/fixtures/faces/split.json' },
  confidence: CONFIDENCE,
  detection_mode: defaults.detectionMode,
  accept_similarity: ACCEPT,
  auto_precision: autoPrecision(),
  ...byMode,
};
for (const [mode, { detection, verification, expression }] of Object.entries(byMode)) {
  for (const h of HALVES) {
    console.log(JSON.stringify({
      mode, half: h,
      group_recall: detection.group[h].iou_0_5.recall, group_fp: detection.group[h].iou_0_5.false_positives, identity_recall: detection.identities[h].recall,
      eer: verification[h].eer, far: verification[h].at_accept.far, frr: verification[h].at_accept.frr, tar_far1: verification[h].tar_at_far_1pct.tar,
      expression_accuracy: expression[h].accuracy,
    }));
  }
}
console.log(`wrote ${writeResult('accuracy', result)}`);
