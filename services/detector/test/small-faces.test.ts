import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { iou, type DetectionMode, type DetectedFace } from '@lookout/contracts';
import { loadConfig } from '@lookout/service-kit';
import { buildWideScenes, FIXTURES, ROOT, type WideScene } from '@lookout/testkit';
import { CadenceTracker } from '../src/pipeline/cadence.js';
import { FacePipeline } from '../src/pipeline/face-pipeline.js';
import { defaultSettings, loadModels, type LoadedModels } from '../src/models/models.js';
import { DetectorConfig } from '../src/config.js';
import type { AnalysisSettings } from '../src/settings/settings.js';

// Small faces in wide frames (issue 16): recall on faces ≥ 20 px with IoU ≥ 0.4, false
// positives per image, and that tiling changes nothing where it should not run.

type Box = [number, number, number, number];
const MIN_SIDE = 20;
const MATCH_IOU = 0.4;
const side = (b: Box) => Math.min(b[2] - b[0], b[3] - b[1]);

interface Score {
  hits: number;
  annotated: number;
  falsePositives: number;
}

function score(faces: DetectedFace[], scene: WideScene): Score {
  const wanted = scene.faces.filter((b) => side(b) >= MIN_SIDE);
  const any = [...scene.faces, ...scene.ambiguous];
  return {
    hits: wanted.filter((b) => faces.some((f) => iou(f.box, b) >= MATCH_IOU)).length,
    annotated: wanted.length,
    falsePositives: faces.filter((f) => !any.some((b) => iou(f.box, b) >= MATCH_IOU)).length,
  };
}

describe('small faces in wide scenes', () => {
  let models: LoadedModels;
  let pipeline: FacePipeline;
  let scenes: WideScene[];
  const config = loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), ANALYZERS: 'none' });
  const withMode = (mode: DetectionMode): AnalysisSettings => ({ ...defaultSettings(config), detection: { mode, smallestFace: 20 } });

  beforeAll(async () => {
    models = await loadModels(config);
    pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide);
    scenes = await buildWideScenes();
  });
  afterAll(() => models.close());

  const run = async (mode: DetectionMode) => {
    const total: Score = { hits: 0, annotated: 0, falsePositives: 0 };
    let worstFp = 0;
    let tiles = 0;
    for (const scene of scenes) {
      const r = await pipeline.analyze(scene.jpeg, withMode(mode));
      const s = score(r.faces, scene);
      total.hits += s.hits;
      total.annotated += s.annotated;
      total.falsePositives += s.falsePositives;
      worstFp = Math.max(worstFp, s.falsePositives);
      tiles += r.timings.tiles === undefined ? 0 : 1;
    }
    const recall = total.hits / total.annotated;
    console.log(`wide scenes, ${mode}: recall ${(recall * 100).toFixed(1)}% (${total.hits}/${total.annotated} faces ≥ ${MIN_SIDE} px), ${total.falsePositives} false positives in ${scenes.length} images (worst ${worstFp}), tiled ${tiles}/${scenes.length}`);
    return { recall, worstFp, tiles };
  };

  it('tiled: recall ≥ 90% of faces ≥ 20 px with at most one false positive per image', async () => {
    const { recall, worstFp, tiles } = await run('tiled');
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(worstFp).toBeLessThanOrEqual(1);
    expect(tiles).toBe(scenes.length);
  });

  it('auto tiles these frames and matches tiled; single (the whole frame only) finds under half', async () => {
    const auto = await run('auto');
    expect(auto.recall).toBeGreaterThanOrEqual(0.9);
    expect(auto.worstFp).toBeLessThanOrEqual(1);
    expect((await run('single')).recall).toBeLessThan(0.5);
  });

  it('auto leaves a 640×480 webcam frame alone: no tiles, the same faces as single', async () => {
    // The detector bench's one-face frame: the fixture as a 640×480 camera sends it.
    const jpeg = await sharp(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama1.jpg')).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
    const stream = { key: 'webcam', captureMs: 0 };
    const auto = await pipeline.analyze(jpeg, withMode('auto'), stream);
    const single = await pipeline.analyze(jpeg, withMode('single'));
    expect(auto.timings.tiles).toBeUndefined();
    expect(auto.faces).toEqual(single.faces);
    expect(auto.faces).toHaveLength(1);
  });

  it('leaves the group photos as they were: the same faces found, auto against single', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'faces/manifest.json'), 'utf8')) as { group: Array<{ file: string; boxes: Box[]; ambiguous_boxes: Box[] }> };
    const count = { single: 0, auto: 0, fpSingle: 0, fpAuto: 0 };
    for (const g of manifest.group) {
      const jpeg = fs.readFileSync(path.join(FIXTURES, 'faces', g.file));
      for (const mode of ['single', 'auto'] as const) {
        const { faces } = await pipeline.analyze(jpeg, withMode(mode));
        count[mode] += g.boxes.filter((b) => faces.some((f) => iou(f.box, b) >= 0.3)).length;
        const fp = faces.filter((f) => ![...g.boxes, ...g.ambiguous_boxes].some((b) => iou(f.box, b) >= 0.3)).length;
        count[mode === 'single' ? 'fpSingle' : 'fpAuto'] += fp;
      }
    }
    console.log(`group photos: single ${count.single} found, ${count.fpSingle} false positives; auto ${count.auto} found, ${count.fpAuto} false positives`);
    expect(count.auto).toBe(count.single);
    expect(count.fpAuto).toBe(count.fpSingle);
  });
});
