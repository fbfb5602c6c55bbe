// Per-stage cost of the detector: JPEG decode + resize (sharp) and face detection
// (onnxruntime), on every group fixture, with 1 and 2 intra-op threads.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, summarize, writeResult } from './lib.mjs';

const { decodeFrame } = await import(path.join(ROOT, 'services/detector/dist/frame-decoder.js'));
const { FaceDetector, DETECTOR_INPUT } = await import(path.join(ROOT, 'services/detector/dist/face-detector.js'));
const sharp = (await import('sharp')).default;

const GROUP = path.resolve(ROOT, '../shared/fixtures/faces/group');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const jpegs = fs.readdirSync(GROUP).map((f) => fs.readFileSync(path.join(GROUP, f)));
// The camera path delivers 640×480 JPEGs; measure decode on that size too.
const cam = await sharp(jpegs[0]).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();

async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const decodeGroup = [];
const decodeCam = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const j of jpegs) decodeGroup.push(await time(() => decodeFrame(j, DETECTOR_INPUT.width, DETECTOR_INPUT.height)));
  decodeCam.push(await time(() => decodeFrame(cam, DETECTOR_INPUT.width, DETECTOR_INPUT.height)));
}

const detect = {};
const frames = await Promise.all(jpegs.map((j) => decodeFrame(j, DETECTOR_INPUT.width, DETECTOR_INPUT.height)));
for (const threads of [1, 2]) {
  const det = await FaceDetector.load({ modelPath: path.join(ROOT, 'models/fr_detect.onnx'), confidence: 0.65, nmsIou: 0.4, minFaceSize: 0, threads });
  for (const f of frames) await det.detect(f.rgb, f.width, f.height); // warm-up
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) for (const f of frames) samples.push(await time(() => det.detect(f.rgb, f.width, f.height)));
  detect[`threads_${threads}`] = summarize(samples);
  await det.close();
}

const result = {
  command: 'npm run bench (bench/stages.mjs)',
  rounds: ROUNDS,
  decode_resize_group_fixtures_ms: summarize(decodeGroup),
  decode_resize_640x480_ms: summarize(decodeCam),
  detect_ms: detect,
};
console.log(JSON.stringify(result, null, 2));
console.log(`wrote ${writeResult('stages', result)}`);
