#!/usr/bin/env node
// Makes int8 variants of the heavy per-face models (embedding, expression, pose) from the
// fp32 files that `npm run models` verified, with this project's own code: no Python, no
// download. Static quantization, QOperator form at opset 10: every Conv becomes
// QuantizeLinear → QLinearConv → DequantizeLinear, weights int8 symmetric per output
// channel, activations uint8 per tensor with ranges (min/max) observed by running the fp32
// model on calibration faces; bias int32. Everything else stays fp32.
//   node scripts/quantize-models.mjs [--models fr_feature,fr_expression,fr_pose] [--calib fixtures|synthetic] [--range minmax|percentile] [--percentile 0.9999] [--keep-fp32 first,last] [--suffix int8] [--dir models]
// Writes <name>.int8.onnx beside each model (git-ignored, like every model file).
// docs/models.md, "int8", says what was measured with them and which are used (embedding
// and expression, where faster; pose not).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import sharp from 'sharp';

const P = onnxProto.onnx;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const dir = path.resolve(root, arg('--dir', 'models'));
const names = arg('--models', 'fr_feature,fr_expression,fr_pose').split(',');
const calib = arg('--calib', 'fixtures');
const rangeMode = arg('--range', 'minmax');
const PERCENTILE = Number(arg('--percentile', '0.9999'));
// Convs left in fp32 at each end of the graph ("2,1": the first two and the last one): the
// layers whose error the rest of the network cannot average out. Per model by default:
// expression (a DenseNet-121) all-int8 disagrees with fp32 on 23 of 116 faces, with its
// first and last four convs in fp32 on 4 — fewer than fp32 with the crop moved by 2 px (9),
// at about the same speed (docs/models.md, int8).
const KEEP_DEFAULT = { fr_feature: '0,0', fr_expression: '4,4', fr_pose: '0,0' };
const keepFor = (name) => arg('--keep-fp32', KEEP_DEFAULT[name] ?? '0,0').split(',').map(Number);
const OUT_SUFFIX = arg('--suffix', 'int8');

// Per model: input side and the normalisation the service feeds (detector analyzers, reid embedder).
const INPUTS = {
  fr_feature: { side: 112, mean: [127.5, 127.5, 127.5], std: [128, 128, 128], bgr: false },
  fr_expression: { side: 224, mean: [0, 0, 0], std: [255, 255, 255], bgr: true },
  fr_pose: { side: 224, mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255], bgr: false },
};

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;

function floats(t) {
  if (t.rawData && t.rawData.length) return new Float32Array(Uint8Array.from(t.rawData).buffer);
  return Float32Array.from(t.floatData ?? []);
}
const tensor = (name, dataType, dims, raw) => P.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });

/** Calibration images: the fixture identities (tight face crops), every other one; or a deterministic pattern. */
async function calibrationInputs(name, count = 32) {
  const spec = INPUTS[name];
  const side = spec.side;
  const out = [];
  if (calib === 'synthetic') {
    let s = 7;
    for (let n = 0; n < 8; n++) {
      const x = new Float32Array(3 * side * side);
      for (let i = 0; i < x.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        x[i] = ((s / 2 ** 32) * 255 - spec.mean[0]) / spec.std[0];
      }
      out.push(x);
    }
    return out;
  }
  const ids = path.join(root, 'test/fixtures/faces/identities');
  const files = readdirSync(ids).sort().flatMap((p) => readdirSync(path.join(ids, p)).sort().map((f) => path.join(ids, p, f)));
  for (const file of files.filter((_, i) => i % 2 === 0).slice(0, count)) {
    const rgb = await sharp(file).removeAlpha().resize(side, side, { fit: 'fill' }).raw().toBuffer();
    const x = new Float32Array(3 * side * side);
    const plane = side * side;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const src = spec.bgr ? 2 - c : c;
        x[c * plane + i] = (rgb[i * 3 + src] - spec.mean[src]) / spec.std[src];
      }
    }
    out.push(x);
  }
  return out;
}

/** min/max of every Conv input and output over the calibration inputs (fp32, graph as written). */
async function observeRanges(model, inputs, side) {
  const probe = P.ModelProto.decode(P.ModelProto.encode(model).finish());
  const wanted = new Set();
  for (const n of probe.graph.node) if (n.opType === 'Conv') wanted.add(n.input[0]).add(n.output[0]);
  const existing = new Set(probe.graph.output.map((o) => o.name));
  for (const name of wanted) if (!existing.has(name)) probe.graph.output.push(P.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT } } }));
  const session = await ort.InferenceSession.create(P.ModelProto.encode(probe).finish(), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3, intraOpNumThreads: 2 });
  const ranges = new Map();
  for (const x of inputs) {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, side, side]) });
    for (const name of wanted) {
      const [lo, hi] = rangeOf(out[name].data);
      const r = ranges.get(name) ?? [Infinity, -Infinity, 0, 0];
      ranges.set(name, [Math.min(r[0], lo), Math.max(r[1], hi), r[2] + lo / inputs.length, r[3] + hi / inputs.length]);
    }
  }
  await session.release();
  // minmax: the extremes over all inputs; percentile: the mean over inputs of each one's 0.01% / 99.99% quantiles.
  return new Map([...ranges].map(([k, r]) => [k, rangeMode === 'minmax' ? [r[0], r[1]] : [r[2], r[3]]]));
}

function rangeOf(d) {
  if (rangeMode === 'minmax') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < d.length; i++) {
      if (d[i] < lo) lo = d[i];
      if (d[i] > hi) hi = d[i];
    }
    return [lo, hi];
  }
  const sorted = Float32Array.from(d).sort();
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))];
  return [q(1 - PERCENTILE), q(PERCENTILE)];
}

/** uint8 asymmetric parameters covering [lo, hi] and 0. */
function activationParams([lo, hi]) {
  lo = Math.min(0, lo);
  hi = Math.max(0, hi);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zero = Math.max(0, Math.min(255, Math.round(-lo / scale)));
  return { scale, zero };
}

function quantize(model, ranges, [keepFirst, keepLast]) {
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const added = [];
  const nodes = [];
  const quantized = new Map(); // fp32 tensor → its uint8 version
  const params = new Map();
  const paramsOf = (name) => {
    if (!params.has(name)) {
      const { scale, zero } = activationParams(ranges.get(name));
      added.push(tensor(`${name}__scale`, FLOAT, [], Float32Array.of(scale)), tensor(`${name}__zero`, UINT8, [], Uint8Array.of(zero)));
      params.set(name, { scale, zero, s: `${name}__scale`, z: `${name}__zero` });
    }
    return params.get(name);
  };
  const quantizedInput = (name) => {
    if (!quantized.has(name)) {
      const p = paramsOf(name);
      nodes.push(P.NodeProto.create({ opType: 'QuantizeLinear', input: [name, p.s, p.z], output: [`${name}__q`], name: `${name}__quantize` }));
      quantized.set(name, `${name}__q`);
    }
    return quantized.get(name);
  };
  let convs = 0;
  const convNodes = g.node.filter((n) => n.opType === 'Conv');
  const keep = new Set([...convNodes.slice(0, keepFirst), ...convNodes.slice(convNodes.length - keepLast)]);
  for (const n of g.node) {
    const w = n.opType === 'Conv' && !keep.has(n) ? inits.get(n.input[1]) : undefined;
    if (!w || !ranges.has(n.input[0]) || !ranges.has(n.output[0])) {
      nodes.push(n);
      continue;
    }
    const W = floats(w);
    const M = Number(w.dims[0]);
    const per = W.length / M;
    const ws = new Float32Array(M);
    const wq = new Int8Array(W.length);
    for (let m = 0; m < M; m++) {
      let peak = 0;
      for (let i = 0; i < per; i++) peak = Math.max(peak, Math.abs(W[m * per + i]));
      ws[m] = peak > 0 ? peak / 127 : 1;
      for (let i = 0; i < per; i++) wq[m * per + i] = Math.max(-127, Math.min(127, Math.round(W[m * per + i] / ws[m])));
    }
    const x = paramsOf(n.input[0]);
    const y = paramsOf(n.output[0]);
    const base = `${n.output[0]}__conv`;
    added.push(tensor(`${base}_w`, INT8, w.dims, wq), tensor(`${base}_ws`, FLOAT, [M], ws), tensor(`${base}_wz`, INT8, [M], new Int8Array(M)));
    const inputs = [quantizedInput(n.input[0]), x.s, x.z, `${base}_w`, `${base}_ws`, `${base}_wz`, y.s, y.z];
    if (n.input[2] && inits.has(n.input[2])) {
      const B = floats(inits.get(n.input[2]));
      const bq = Int32Array.from(B, (b, m) => Math.round(b / (x.scale * ws[m])));
      added.push(tensor(`${base}_b`, INT32, [M], bq));
      inputs.push(`${base}_b`);
    }
    nodes.push(P.NodeProto.create({ opType: 'QLinearConv', input: inputs, output: [`${n.output[0]}__q`], attribute: n.attribute, name: `${base}_qlinear` }));
    nodes.push(P.NodeProto.create({ opType: 'DequantizeLinear', input: [`${n.output[0]}__q`, y.s, y.z], output: [n.output[0]], name: `${base}_dequantize` }));
    // A Conv reading this output takes the uint8 tensor itself (same scale and zero point): no DQ → Q between two Convs.
    quantized.set(n.output[0], `${n.output[0]}__q`);
    convs++;
  }
  // Weights now held as int8 are dropped when nothing else reads them.
  const used = new Set(nodes.flatMap((n) => n.input));
  g.initializer = [...g.initializer.filter((t) => used.has(t.name)), ...added];
  g.node = nodes;
  // QuantizeLinear, DequantizeLinear and QLinearConv exist from opset 10; the ops these models use mean the same at 9 and 10.
  for (const o of model.opsetImport) if (!o.domain) o.version = Math.max(Number(o.version), 10);
  return convs;
}

for (const name of names) {
  const file = path.join(dir, `${name}.onnx`);
  const model = P.ModelProto.decode(readFileSync(file));
  const inputs = await calibrationInputs(name);
  const ranges = await observeRanges(model, inputs, INPUTS[name].side);
  const convs = quantize(model, ranges, keepFor(name));
  const out = path.join(dir, `${name}.${OUT_SUFFIX}.onnx`);
  const bytes = P.ModelProto.encode(model).finish();
  writeFileSync(out, bytes);
  console.log(`quantize: ${name}: ${convs} Conv → QLinearConv (${inputs.length} ${calib} calibration inputs) → ${path.relative(root, out)} (${(bytes.length / 1e6).toFixed(1)} MB)`);
}
