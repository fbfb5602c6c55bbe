#!/usr/bin/env node
// Runs every benchmark (each in its own process, so one's threads do not skew another), then
// bench/report.mjs rewrites docs/performance.md and the sizing in docs/deploy.md from
// bench/results/<machine>/*.json.
//   npm run bench                   all
//   npm run bench -- detector       only some (accuracy: docs/accuracy.md; its figures do not depend on CPU speed)
//   npm run bench -- --docs         only rewrite the docs from the results there are
// Knobs: BENCH_ROUNDS (runs of each bench; tables show the median and min–max over rounds),
// BENCH_SECONDS, BENCH_STREAMS (e.g. "1,2,4"), BENCH_MACHINE_ID (the results folder; default:
// CPU model, cores, memory). Results of other machines are kept: each table names its machine.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['detector', 'frame-cost', 'pipeline', 'pipeline-sfu', 'overhead', 'media', 'baseline', 'gallery', 'gallery-restart', 'jobs', 'accuracy'];
// Benches that are another bench's file run with settings.
const VARIANTS = { 'pipeline-sfu': { file: 'pipeline', env: { BENCH_PIPELINE_SOURCE: 'sfu' } } };
const docsOnly = process.argv.includes('--docs');
const asked = process.argv.slice(2).filter((a) => a !== '--docs');
const unknown = asked.filter((a) => !ALL.includes(a));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) {
  console.error(`BENCH_ROUNDS must be a whole number ≥ 1, not ${process.env.BENCH_ROUNDS}`);
  process.exit(2);
}

if (!docsOnly) {
  for (const name of asked.length ? asked : ALL) {
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`\n== bench: ${name}${ROUNDS > 1 ? ` (round ${round} of ${ROUNDS})` : ''}`);
      const v = VARIANTS[name] ?? { file: name, env: {} };
      const r = spawnSync(process.execPath, [path.join(root, 'bench', `${v.file}.mjs`)], { cwd: root, stdio: 'inherit', env: { ...process.env, ...v.env, BENCH_ROUND: `${round}/${ROUNDS}` } });
      if (r.status !== 0) process.exit(r.status ?? 1);
    }
  }
}

// The docs are rebuilt from every machine's results, whichever ran now.
await import(path.join(root, 'bench/report.mjs'));
