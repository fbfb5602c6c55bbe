#!/usr/bin/env node
// Where POSE_REUSE_MAX_SHIFT comes from (docs/detector.md, "Pose reuse"): through the
// detector as it runs (one-off images, every analyzer), per identity photo with a face, the
// shift of the face's shape (68 landmarks relative to its box) and of its pose when the same
// photo is moved 2 px and re-encoded at JPEG quality 70 (the noise between two frames of a
// still face), and, over pairs of photos of one person, how far apart the angles are for a
// given shape shift. Needs a build (npx tsc -b) and the models.
//   node scripts/eval/pose-reuse.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { inProcessDetector, quantile } = await import(path.join(ROOT, 'bench/lib.mjs'));
const { faceShape, shapeShift } = await import(path.join(ROOT, 'services/detector/dist/pipeline/pose-reuse.js'));
const { pipeline, settings, close } = await inProcessDetector();
const IDENTITIES = path.join(ROOT, 'test/fixtures/faces/identities');
const shape = (f) => faceShape(f.landmarks, f.box);
const biggest = (r) => r.faces.sort((a, b) => b.box[2] - b.box[0] - (a.box[2] - a.box[0]))[0];
const q = (arr, k) => quantile([...arr].sort((a, b) => a - b), k);
const noise = [];
const byPerson = {};
for (const id of fs.readdirSync(IDENTITIES)) {
  for (const file of fs.readdirSync(path.join(IDENTITIES, id)).filter((f) => /\.jpe?g$/i.test(f))) {
    const jpg = fs.readFileSync(path.join(IDENTITIES, id, file));
    const f0 = biggest(await pipeline.analyze(jpg, settings));
    if (!f0?.landmarks || !f0.pose) continue;
    const { width, height } = await sharp(jpg).metadata();
    const moved = await sharp(jpg).extend({ left: 2, top: 1, right: 0, bottom: 0, background: '#000' }).extract({ left: 0, top: 0, width, height }).jpeg({ quality: 70 }).toBuffer();
    const f1 = biggest(await pipeline.analyze(moved, settings));
    if (!f1?.landmarks) continue;
    noise.push({ d: shapeShift(shape(f0), shape(f1)), yaw: Math.abs(f0.pose.yaw - f1.pose.yaw), pitch: Math.abs(f0.pose.pitch - f1.pose.pitch) });
    (byPerson[id] ??= []).push({ s: shape(f0), p: f0.pose });
  }
}
const pairs = [];
for (const list of Object.values(byPerson)) {
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const [a, b] = [list[i].p, list[j].p];
      pairs.push({ d: shapeShift(list[i].s, list[j].s), angle: Math.max(Math.abs(a.yaw - b.yaw), Math.abs(a.pitch - b.pitch), Math.abs(a.roll - b.roll)) });
    }
  }
}
const d = noise.map((n) => n.d);
console.log(`same photo moved 2 px, re-encoded (${noise.length} faces): shape shift median ${q(d, 0.5).toFixed(4)}, p95 ${q(d, 0.95).toFixed(4)}, max ${Math.max(...d).toFixed(4)}; pose p95 |Δyaw| ${q(noise.map((n) => n.yaw), 0.95).toFixed(1)}°, |Δpitch| ${q(noise.map((n) => n.pitch), 0.95).toFixed(1)}°`);
for (const limit of [0.01, 0.015, 0.02, 0.03]) {
  const within = pairs.filter((p) => p.d < limit);
  console.log(`limit ${limit}: ${noise.filter((n) => n.d >= limit).length}/${noise.length} still faces would run again; ${within.length}/${pairs.length} photo pairs within it, angles apart by at most ${within.length ? Math.max(...within.map((p) => p.angle)).toFixed(1) : '–'}°`);
}
for (const deg of [3, 5, 10]) {
  const apart = pairs.filter((p) => p.angle >= deg).map((p) => p.d);
  console.log(`pairs ${deg}° or more apart (${apart.length}): shape shift min ${Math.min(...apart).toFixed(4)}, p5 ${q(apart, 0.05).toFixed(4)}`);
}
await close();
