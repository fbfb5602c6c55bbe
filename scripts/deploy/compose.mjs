// Checks of compose.yaml with Debian's docker-compose config, every profile.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';
import { mkdirSync, writeFileSync } from 'node:fs';
import { root, cacheDir, SERVICES, problem, checkEnvNames } from './common.mjs';

// compose.yaml

export function validateCompose() {
  const bin = process.env.DOCKER_COMPOSE || 'docker-compose';
  // An empty env file: an .env beside compose.yaml must not change what is checked.
  const envFile = path.join(cacheDir, 'empty.env');
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(envFile, '');
  // Only PATH and HOME: the defaults in compose.yaml are what is checked, not this shell's.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', COMPOSE_PROJECT_NAME: 'lookout' };
  const run = (...args) => spawnSync(bin, ['--env-file', envFile, '-f', path.join(root, 'compose.yaml'), ...args], { cwd: root, env, encoding: 'utf8' });
  const version = run('version', '--short');
  if (version.error) {
    problem('compose', `${bin} not found (Debian: apt-get install docker-compose): ${version.error.message}`);
    return { tool: null };
  }
  const r = run('--profile', 'turn', '--profile', 'monitoring', 'config');
  if (r.status !== 0) {
    problem('compose', `docker-compose config failed: ${(r.stderr || r.stdout).trim()}`);
    return { tool: `docker-compose ${version.stdout.trim()}` };
  }
  const config = YAML.parse(r.stdout);
  checkEnvNames('compose', Object.entries(config.services ?? {}).filter(([name]) => SERVICES.includes(name)).map(([name, s]) => [name, Object.keys(s.environment ?? {})]));
  return { tool: `docker-compose ${version.stdout.trim()}`, config };
}
