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
  for (const e of restartProblems(config.services ?? {})) problem('compose', e);
  checkEnvNames('compose', Object.entries(config.services ?? {}).filter(([name]) => SERVICES.includes(name)).map(([name, s]) => [name, Object.keys(s.environment ?? {})]));
  return { tool: `docker-compose ${version.stdout.trim()}`, config };
}

const LONG_RUNNING_RESTART = ['unless-stopped', 'always', 'on-failure'];

/**
 * Every service says what happens when it exits. One others wait to complete
 * (service_completed_successfully) is a one-shot job: restart "no", or it would run again
 * and again. Every other service is long-running and is restarted when it dies.
 */
export function restartProblems(services) {
  const oneShot = new Set(Object.values(services).flatMap((s) => Object.entries(s.depends_on ?? {}).filter(([, d]) => d.condition === 'service_completed_successfully').map(([n]) => n)));
  const out = [];
  for (const [name, s] of Object.entries(services)) {
    const restart = s.restart === undefined ? undefined : String(s.restart);
    if (oneShot.has(name)) {
      if (restart !== 'no') out.push(`${name}: a one-shot job (others wait for it to complete) needs restart: "no", not ${restart ?? 'none'}`);
    } else if (!LONG_RUNNING_RESTART.some((r) => restart?.startsWith(r))) {
      out.push(`${name}: a long-running service needs restart: unless-stopped (or always, on-failure), not ${restart ?? 'none'}`);
    }
  }
  return out;
}
