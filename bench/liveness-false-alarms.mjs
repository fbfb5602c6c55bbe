// Liveness false alarms on every real-person fixture: `node bench/liveness-false-alarms.mjs`
// (after `npx tsc -b`; ~1 min on 2 cores). Not part of `npm run bench`: it measures
// accuracy, not speed. Every face in these sources is a real person captured by a camera,
// so every "not live" result is a false alarm (see docs/detector.md, liveness).
//
// Sources: the face photos (identities, expressions, group), every frame of both fixture
// videos (extracted with ffmpeg as the SFU tap does: JPEG q≈3), and the same video frames
// re-encoded the way the web app's fallback uploader does (canvas → JPEG at quality 0.7 and
// 0.8; at 640 px, its MAX_WIDTH, and at 320 px, a small publisher window).
//
// Per frame: the share of faces whose score is under the threshold, and the score
// distribution. Per session: each video (and each re-encoding of it) is run through reid's
// real rule engine (services/reid/dist) at 15 fps with a fresh liveness result every
// `--every` frames (the detector's default cadence, 1/s at 15 fps), and the number of
// `spoof_suspected` episodes is counted. Options: `--threshold 0.5`, `--every 15`, `--json`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { inProcessDetector } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const THRESHOLD = Number(arg('threshold', 0.5));
const EVERY = Number(arg('every', 15));
const FPS = 15;
const FACES = path.join(ROOT, 'test/fixtures/faces');
const VIDEOS = ['two-people-sequential-640x480-15fps.webm', 'two-faces-together-640x480-15fps.webm'];

function photos() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(p);
    }
  };
  for (const d of ['identities', 'expressions', 'group']) walk(path.join(FACES, d));
  return out.sort();
}

function videoFrames(video) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liveness-'));
  execFileSync('ffmpeg', ['-loglevel', 'error', '-i', path.join(ROOT, 'test/fixtures/video', video), '-q:v', '3', path.join(dir, 'f%04d.jpg')]);
  const files = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f)));
  fs.rmSync(dir, { recursive: true, force: true });
  return files;
}

/** The fallback uploader: the canvas scales to `width` and encodes JPEG at `quality`. */
const reencode = (jpeg, width, quality) => sharp(jpeg).resize({ width }).jpeg({ quality: Math.round(quality * 100) }).toBuffer();

const { pipeline, settings, close } = await inProcessDetector({ ANALYZERS: 'liveness' });
for (const a of Object.values(settings.analyzers)) a.intervalMs = 0;

async function scores(jpeg) {
  const r = await pipeline.analyze(jpeg, settings);
  return r.faces.map((f) => f.liveness?.score).filter((s) => typeof s === 'number');
}

const R = path.join(ROOT, 'services/reid/dist/stream/core/rules/evaluate.js');
const { evaluateRules, initialRulesState } = await import(R);
const { resolveRules } = await import('@lookout/contracts');

/**
 * Episodes of spoof_suspected for one session over `perFrame` (each frame: the subject's
 * liveness score or null when no face). Only the rule under test is enabled; the subject
 * is one track per person (`trackAt`: the sequential video changes person, and track, at
 * frame 90).
 */
function episodes(perFrame, trackAt) {
  const rules = resolveRules();
  for (const k of Object.keys(rules)) if (typeof rules[k] === 'object') rules[k].enabled = k === 'spoof_suspected';
  let state = initialRulesState();
  let opened = 0;
  perFrame.forEach((score, seq) => {
    const fresh = seq % EVERY === 1 % EVERY; // the detector's cadence runs liveness on a stream's 2nd frame first
    const face =
      score === null
        ? []
        : [{ trackId: trackAt(seq), isPrincipal: true, identity: null, scores: {}, face: { box: [0, 0, 1, 1], score: 1, liveness: { score, live: score >= THRESHOLD, ageMs: fresh ? 0 : 100 } } }];
    const facts = { seq, captureMs: 1_000_000 + (seq * 1000) / FPS, faces: face, principal: { status: 'none' }, galleryEmpty: true };
    const step = evaluateRules(state, facts, rules, { room: 'bench', stream: 's' });
    state = step.state;
    opened += step.transitions.filter((t) => t.state === 'open').length;
  });
  return opened;
}

/**
 * The rule before issue 16, for the "before" column: an episode opened after
 * 2 consecutive fresh "not live" results of the subject (stale repeats neither counted nor
 * reset), closed after 3 frames without the condition.
 */
function episodesBefore(perFrame) {
  let run = 0;
  let open = false;
  let clear = 0;
  let opened = 0;
  perFrame.forEach((score, seq) => {
    if (score === null) {
      run = 0;
      if (open && ++clear >= 3) open = false;
      return;
    }
    if (seq % EVERY !== 1 % EVERY) return;
    if (score < THRESHOLD) {
      run++;
      clear = 0;
      if (!open && run >= 2) {
        open = true;
        opened++;
      }
    } else {
      run = 0;
      if (open && ++clear >= 3) open = false;
    }
  });
  return opened;
}

function summary(name, all, extra = {}) {
  const s = [...all].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
  const low = s.filter((v) => v < THRESHOLD).length;
  return { source: name, faces: s.length, notLive: low, rate: s.length ? low / s.length : 0, min: q(0), p10: q(0.1), median: q(0.5), ...extra };
}

const rows = [];
const photoScores = [];
const lowPhotos = [];
for (const p of photos()) {
  const raw = fs.readFileSync(p);
  // The detector takes JPEG only (as the tap sends): a PNG fixture is encoded at q95 first.
  const sc = await scores(p.endsWith('.png') ? await sharp(raw).jpeg({ quality: 95 }).toBuffer() : raw);
  photoScores.push(...sc);
  if (sc.some((v) => v < THRESHOLD)) lowPhotos.push(`${path.relative(FACES, p)} ${sc.map((v) => v.toFixed(2)).join(',')}`);
}
rows.push(summary('photos (identities, expressions, group)', photoScores));

for (const video of VIDEOS) {
  const frames = videoFrames(video);
  const variants = [['tap JPEG (ffmpeg q3)', async (j) => j]];
  for (const width of [640, 320]) for (const quality of [0.8, 0.7]) variants.push([`fallback ${width}px q${quality}`, (j) => reencode(j, width, quality)]);
  for (const [label, encode] of variants) {
    const all = [];
    const subject = [];
    for (const f of frames) {
      const sc = await scores(await encode(f));
      all.push(...sc);
      // The rule judges one subject: with two faces in view nobody is principal, so take the lowest (worst case).
      subject.push(sc.length ? Math.min(...sc) : null);
    }
    // Per-frame rate counts only the frames where liveness would run fresh (1/s), as in a session.
    const trackAt = (seq) => (video.startsWith('two-people-sequential') && seq >= 90 ? 't2' : 't1');
    rows.push(summary(`${video.replace(/-640x480-15fps\.webm$/, '')}: ${label}`, all, { before: episodesBefore(subject), episodes: episodes(subject, trackAt) }));
  }
}
await close();

if (process.argv.includes('--json')) console.log(JSON.stringify({ threshold: THRESHOLD, every: EVERY, rows, lowPhotos }, null, 2));
else {
  const f = (v) => (Number.isFinite(v) ? v.toFixed(3) : '-');
  console.log(`threshold ${THRESHOLD}; episodes with a fresh result every ${EVERY} frames at ${FPS} fps\n`);
  console.log('| source | faces | not live | rate | min | p10 | median | spoof episodes before | after |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.source} | ${r.faces} | ${r.notLive} | ${(r.rate * 100).toFixed(1)}% | ${f(r.min)} | ${f(r.p10)} | ${f(r.median)} | ${r.before ?? '-'} | ${r.episodes ?? '-'} |`);
  if (lowPhotos.length) console.log(`\nphotos with a face under ${THRESHOLD}:\n  ${lowPhotos.join('\n  ')}`);
}
