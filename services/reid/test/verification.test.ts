import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '@lookout/service-kit';
import { CadenceTracker } from '../../detector/src/pipeline/cadence.js';
import { DetectorConfig } from '../../detector/src/config.js';
import { FacePipeline } from '../../detector/src/pipeline/face-pipeline.js';
import { defaultSettings, loadModels, type LoadedModels } from '../../detector/src/models/models.js';
import { FaceEmbedder } from '../src/embedding/embedder.js';
import { dot } from '../src/embedding/vector-codec.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const IDENTITIES = path.resolve(ROOT, 'test/fixtures/faces/identities');

/**
 * 1:1 verification on every fixture identity image, with the real detector (alignment
 * crop) and the real embedding model: all genuine pairs against all impostor pairs.
 */
describe('face verification on the fixture identities', () => {
  let models: LoadedModels;
  let embedder: FaceEmbedder;
  const items: Array<{ person: string; file: string; v: Float32Array }> = [];

  beforeAll(async () => {
    const config = loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models') });
    models = await loadModels(config);
    embedder = await FaceEmbedder.load(path.join(ROOT, 'models/fr_feature.onnx'), 1);
    const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide);
    const settings = defaultSettings(config);
    for (const person of fs.readdirSync(IDENTITIES).sort()) {
      for (const file of fs.readdirSync(path.join(IDENTITIES, person)).sort()) {
        const jpeg = await sharp(path.join(IDENTITIES, person, file)).jpeg({ quality: 95 }).toBuffer();
        let r = await pipeline.analyze(jpeg, settings);
        // The 150 px BBT crops are so tight that one needs a border to be detected.
        if (!r.faces.length) r = await pipeline.analyze(await sharp(jpeg).extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#808080' }).jpeg().toBuffer(), settings);
        const face = [...r.faces].sort((a, b) => b.score - a.score)[0];
        if (!face?.crop) throw new Error(`${person}/${file}: no face`);
        const [v] = await embedder.embed([await FaceEmbedder.decode(Buffer.from(face.crop.data, 'base64'))]);
        items.push({ person, file, v: v! });
      }
    }
  }, 300_000);

  afterAll(async () => {
    await models?.close();
    await embedder?.close();
  });

  it('embeds every image as a unit vector', () => {
    expect(items.length).toBe(116);
    for (const { v } of items) expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-4);
  });

  it('has an equal error rate of at most 1% over all genuine/impostor pairs', () => {
    const genuine: number[] = [];
    const impostor: number[] = [];
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) (items[i]!.person === items[j]!.person ? genuine : impostor).push(dot(items[i]!.v, items[j]!.v));
    }
    expect(genuine.length).toBeGreaterThan(200);
    let eer = 1;
    for (let t = 0; t <= 1; t += 0.0025) {
      const frr = genuine.filter((s) => s < t).length / genuine.length;
      const far = impostor.filter((s) => s >= t).length / impostor.length;
      eer = Math.min(eer, Math.max(frr, far));
    }
    expect(eer).toBeLessThanOrEqual(0.01);
    // At the service's accept threshold, false accepts are (near) zero.
    expect(impostor.filter((s) => s >= 0.45).length / impostor.length).toBeLessThanOrEqual(0.001);
  });
});
