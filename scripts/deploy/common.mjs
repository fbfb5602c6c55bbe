// Shared state of the deploy validation: paths, the problem list, small helpers.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rootArg = process.argv.indexOf('--root');
export const root = rootArg >= 0 && process.argv[rootArg + 1] ? path.resolve(process.argv[rootArg + 1]) : repo;
// In this checkout's node_modules, so the generated TypeScript resolves kubernetes-models.
export const cacheDir = path.join(repo, 'node_modules', '.cache', 'lookout-deploy');
export const OVERLAYS = ['dev', 'prod'];
export const SERVICES = ['sfu', 'detector', 'reid', 'gateway'];

export const GENERIC_ENV = new Set(['NODE_ENV']);

export const problems = [];
export const problem = (area, message) => problems.push({ area, message });
export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
export const read = (rel) => readFileSync(path.join(root, rel), 'utf8');

let documentedEnv;
export function checkEnvNames(area, entries) {
  documentedEnv ??= new Set([...read('docs/configuration.md').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  for (const [owner, vars] of entries) {
    for (const v of vars) {
      if (!documentedEnv.has(v) && !GENERIC_ENV.has(v)) problem(area, `${owner}: ${v} is not a documented configuration variable (docs/configuration.md)`);
    }
  }
}
