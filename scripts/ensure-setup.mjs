#!/usr/bin/env node
// Runs scripts/setup.sh when anything it installs is missing: system binaries, npm deps,
// models, or the build. Used by `npm start` and `npm test` so both work on a fresh machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = ['sfu', 'detector', 'reid', 'gateway'];
// Debian's multiarch directory per Node architecture (x86_64 was hard-coded before: an
// arm64 machine was told mediasoup-worker was missing although it was installed).
const MULTIARCH = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf', ia32: 'i386-linux-gnu', ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', riscv64: 'riscv64-linux-gnu' };

/** Where Debian's mediasoup-worker package puts the binary on this architecture. */
export function debianWorkerBin(arch = process.arch) {
  return `/usr/lib/${MULTIARCH[arch] ?? `${arch}-linux-gnu`}/mediasoup/mediasoup-worker`;
}

export const workerBin = process.env.MEDIASOUP_WORKER_BIN || debianWorkerBin();

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** What is missing, in words; empty when nothing is. */
export function missingPieces() {
  const missing = [];
  for (const cmd of ['nats-server', 'ffmpeg', 'chromium', 'docker-compose']) if (!onPath(cmd)) missing.push(cmd);
  if (!existsSync(workerBin)) missing.push(`mediasoup-worker (${workerBin})`);
  if (!existsSync(path.join(root, 'node_modules', '.package-lock.json'))) missing.push('npm dependencies');
  if (!existsSync(path.join(root, 'models', 'fr_detect.onnx'))) missing.push('models');
  const built = SERVICES.every((s) => existsSync(path.join(root, 'services', s, 'dist', 'main.js'))) && existsSync(path.join(root, 'web', 'dist', 'index.html'));
  if (!built) missing.push('build');
  return missing;
}

export function ensureSetup() {
  const missing = missingPieces();
  if (missing.length === 0) return;
  console.log(`[lookout] missing: ${missing.join(', ')}; running scripts/setup.sh`);
  const r = spawnSync('bash', [path.join(root, 'scripts', 'setup.sh')], { cwd: root, stdio: 'inherit', env: { ...process.env, MEDIASOUP_WORKER_BIN: workerBin } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSetup();
