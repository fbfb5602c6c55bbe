#!/usr/bin/env node
// fp32 vs int8 per-face models: speed at three levels (1 thread, batch 1, median of 15
// interleaved rounds on the synthetic probe) and agreement on the 116 fixture identity photos
// resized to the input (embedding cosine, expression top-1, pose angles). Needs the int8
// files: node scripts/quantize-models.mjs; then node scripts/int8/compare.mjs
import ort from 'onnxruntime-node';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { makeBatchDynamic, synthesizeInput } from '../../packages/onnx-kit/dist/index.js';
const opts = (level) => ({ intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3, graphOptimizationLevel: level, extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } });
const INPUTS = { fr_feature: { side: 112, mean: [127.5,127.5,127.5], std: [128,128,128], bgr: false }, fr_expression: { side: 224, mean: [0,0,0], std: [255,255,255], bgr: true }, fr_pose: { side: 224, mean: [0.485*255,0.456*255,0.406*255], std: [0.229*255,0.224*255,0.225*255], bgr: false } };
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ids = path.join(ROOT, 'test/fixtures/faces/identities');
const files = readdirSync(ids).sort().flatMap((p) => readdirSync(path.join(ids, p)).sort().map((f) => path.join(ids, p, f)));
for (const name of Object.keys(INPUTS)) {
  const spec = INPUTS[name], side = spec.side, dims = [1,3,side,side];
  const x = synthesizeInput(dims);
  const row = [name];
  const sessions = {};
  for (const v of ['fp32', 'int8']) for (const level of ['basic','extended','all']) {
    const bytes = makeBatchDynamic(readFileSync(`${ROOT}/models/${name}${v === 'int8' ? '.int8' : ''}.onnx`));
    const s = await ort.InferenceSession.create(bytes, opts(level));
    sessions[`${v}/${level}`] = s;
  }
  const feeds = (s) => ({ [s.inputNames[0]]: new ort.Tensor('float32', x, dims) });
  for (const s of Object.values(sessions)) await s.run(feeds(s));
  const t = {}; for (const k of Object.keys(sessions)) t[k] = [];
  for (let r = 0; r < 15; r++) for (const [k, s] of Object.entries(sessions)) { const a = performance.now(); await s.run(feeds(s)); t[k].push(performance.now() - a); }
  for (const [k, v] of Object.entries(t)) { v.sort((a,b)=>a-b); row.push(`${k} ${v[7].toFixed(2)}`); }
  console.log(row.join(' | '));
  // agreement on the 116 fixture faces
  const f = sessions['fp32/all'], q = sessions['int8/all'];
  let minCos = 1, sumCos = 0, top1 = 0, maxDeg = 0, sumDeg = 0, n = 0;
  for (const file of files) {
    const rgb = await sharp(file).removeAlpha().resize(side, side, { fit: 'fill' }).raw().toBuffer();
    const xi = new Float32Array(3*side*side), plane = side*side;
    for (let i=0;i<plane;i++) for (let c=0;c<3;c++){ const src = spec.bgr ? 2-c : c; xi[c*plane+i] = (rgb[i*3+src]-spec.mean[src])/spec.std[src]; }
    const feed = (s) => ({ [s.inputNames[0]]: new ort.Tensor('float32', xi, dims) });
    const a = await f.run(feed(f)), b = await q.run(feed(q));
    n++;
    if (name === 'fr_feature') { const u = a[f.outputNames[0]].data, w = b[q.outputNames[0]].data; let d=0,nu=0,nw=0; for (let i=0;i<u.length;i++){d+=u[i]*w[i];nu+=u[i]*u[i];nw+=w[i]*w[i];} const c=d/Math.sqrt(nu*nw); minCos=Math.min(minCos,c); sumCos+=c; }
    if (name === 'fr_expression') { const am = (d) => d.indexOf(Math.max(...d)); if (am(Array.from(a.output.data)) === am(Array.from(b.output.data))) top1++; }
    if (name === 'fr_pose') { const deg = (l) => { const m = Math.max(...l); const e = Array.from(l, (v) => Math.exp(v-m)); const s = e.reduce((p,c)=>p+c,0); return e.reduce((acc,p,i)=>acc+p/s*i,0)*3-99; }; for (const o of ['output','617','618']) { const dd = Math.abs(deg(a[o].data)-deg(b[o].data)); maxDeg=Math.max(maxDeg,dd); sumDeg+=dd; } }
  }
  if (name === 'fr_feature') console.log(`  cosine fp32 vs int8 over ${n} fixture faces: mean ${(sumCos/n).toFixed(4)} min ${minCos.toFixed(4)}`);
  if (name === 'fr_expression') console.log(`  top-1 agreement: ${top1}/${n}`);
  if (name === 'fr_pose') console.log(`  |Δ angle| mean ${(sumDeg/(3*n)).toFixed(2)}° max ${maxDeg.toFixed(2)}°`);
  for (const s of Object.values(sessions)) await s.release();
}
