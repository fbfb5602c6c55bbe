#!/usr/bin/env node
// npm run analyze -- <image files…>
// Runs the detector's analyzers in-process (no NATS) and prints one JSON object per image,
// one per line. The same environment variables as the service configure it
// (docs/configuration.md), e.g. ANALYZERS=pose,eyes or MODELS_DIR. Aligned crops are left
// out unless --crops is given. Exit code 1 if any file failed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '@lookout/service-kit';
import { CadenceTracker } from './pipeline/cadence.js';
import { DetectorConfig } from './config.js';
import { FacePipeline } from './pipeline/face-pipeline.js';
import { poseReuseOf } from './pipeline/pose-reuse.js';
import { defaultSettings, loadModels } from './models/models.js';

const args = process.argv.slice(2);
const withCrops = args.includes('--crops');
const files = args.filter((a) => !a.startsWith('--'));
// `npm run` moves to the repository root; relative file names mean where the user was.
const base = process.env.npm_lifecycle_event === 'analyze' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
if (files.length === 0) {
  console.error('usage: npm run analyze -- [--crops] <image files…>');
  process.exit(2);
}

const config = loadConfig(DetectorConfig);
const models = await loadModels(config);
const settings = defaultSettings(config);
if (!withCrops) settings.analyzers.crops.enabled = false;
const pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide, poseReuseOf(config));

let failed = 0;
for (const file of files) {
  try {
    const { width, height, faces, text, timings } = await pipeline.analyze(await fs.readFile(path.resolve(base, file)), settings);
    console.log(JSON.stringify({ file, width, height, faces, ...(text ? { text } : {}), timings }));
  } catch (err) {
    failed++;
    const code = (err as { reason?: string; code?: string }).reason ?? (err as { code?: string }).code ?? 'error';
    console.log(JSON.stringify({ file, error: { code, message: (err as Error).message } }));
  }
}
await models.close();
process.exit(failed > 0 ? 1 : 0);
