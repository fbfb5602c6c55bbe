// compose.yaml run for real, by docker-compose 1.29 against a root podman (issue 19):
// scripts/deploy/podman-env.sh prepares podman (containers.conf, local base images, the API
// socket, the healthcheck loop); scripts/deploy/build-images.sh builds the four images
// from deploy/docker/Dockerfile. These helpers drive both for the compose test.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../services.js';

const PODMAN_ENV = path.join(ROOT, 'scripts', 'deploy', 'podman-env.sh');
const BUILD_IMAGES = path.join(ROOT, 'scripts', 'deploy', 'build-images.sh');
/** The test's additions to compose.yaml (fixture video for file ingest); users run compose.yaml alone. */
export const COMPOSE_TEST_OVERRIDE = path.join(ROOT, 'deploy', 'compose.test.yaml');

/** Runs a command to completion with output captured; throws with its output on failure. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: { allowFail?: boolean; timeoutMs?: number } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: opts.timeoutMs ?? 600_000 });
  const out = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (out.code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${out.code}${r.error ? ` (${r.error.message})` : ''}\n${out.stdout.slice(-4000)}\n${out.stderr.slice(-4000)}`);
  return out;
}

/** Streams a long command's output into `onLine` (the build: minutes), resolving with its stdout. */
function runStreaming(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let tail = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      for (const l of d.split('\n')) if (l) onLine(l);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      tail = (tail + d).slice(-6000);
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${tail}`))));
  });
}

/**
 * Prepares podman (only what is missing) and starts its Docker-compatible socket; returns
 * the environment docker-compose and podman need (CONTAINERS_CONF, DOCKER_HOST, …).
 */
export function podmanUp(): NodeJS.ProcessEnv {
  const { stdout } = run('bash', [PODMAN_ENV, 'up'], process.env, { timeoutMs: 900_000 });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const m of stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  if (!env.DOCKER_HOST?.startsWith('unix://')) throw new Error(`podman-env.sh up printed no DOCKER_HOST:\n${stdout}`);
  return env;
}

/** Stops the socket and the healthcheck loop podmanUp started. */
export function podmanDown(): void {
  run('bash', [PODMAN_ENV, 'down'], process.env, { allowFail: true });
}

/**
 * deploy/nats-compose.conf for the NATS of the test image (Debian's nats-server 2.9: no
 * `sync_interval`, a 2.10 field), in a temporary file; its path goes in
 * LOOKOUT_TEST_NATS_COMPOSE_CONF, which deploy/compose.test.yaml mounts. Everything else is
 * the file users run.
 */
export function natsComposeConfFor29(): string {
  const text = fs.readFileSync(path.join(ROOT, 'deploy', 'nats-compose.conf'), 'utf8');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-compose-nats-'));
  const file = path.join(dir, 'nats-compose.conf');
  fs.writeFileSync(file, text.replace(/^\s*sync_interval:.*$/m, '  # sync_interval: always  (nats-server 2.10+; the test image has 2.9)'));
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(file, 0o644);
  return file;
}

export interface BuiltImage {
  service: string;
  seconds: number;
  sizeMb: number;
}

/** Builds the four service images (deploy/docker/Dockerfile, unmodified); `onLine` gets each "<service> <s> s <MB> MB". */
export async function buildServiceImages(env: NodeJS.ProcessEnv, onLine: (line: string) => void = () => undefined): Promise<BuiltImage[]> {
  const out = await runStreaming('bash', [BUILD_IMAGES], env, onLine);
  return [...out.matchAll(/^(\w+) (\d+) s (\d+) MB$/gm)].map((m) => ({ service: m[1]!, seconds: Number(m[2]), sizeMb: Number(m[3]) }));
}

/** One compose project: compose.yaml (+ the test override) under a fixed project name. */
export class ComposeProject {
  constructor(
    readonly project: string,
    readonly env: NodeJS.ProcessEnv,
    readonly files: string[] = [path.join(ROOT, 'compose.yaml'), COMPOSE_TEST_OVERRIDE],
  ) {}

  compose(args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
    return run('docker-compose', ['-p', this.project, ...this.files.flatMap((f) => ['-f', f]), ...args], this.env, opts);
  }

  podman(args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
    return run('podman', args, this.env, opts);
  }

  /** The project's containers (running or not), as podman sees them: name, state, service. */
  containers(): Array<{ name: string; state: string; service: string; health: string }> {
    const { stdout } = this.podman(['ps', '-a', '--filter', `label=com.docker.compose.project=${this.project}`, '--format', 'json']);
    const list = JSON.parse(stdout || '[]') as Array<{ Names: string[]; State: string; Status: string; Labels: Record<string, string> | null }>;
    return list.map((c) => ({
      name: c.Names[0] ?? '',
      state: c.State,
      service: c.Labels?.['com.docker.compose.service'] ?? '',
      health: /\((healthy|unhealthy|starting)\)/.exec(c.Status)?.[1] ?? '',
    }));
  }

  /** GET a service's own HTTP endpoint from inside its container (no published port: node is in every image). */
  httpInside(container: string, port: number, urlPath: string): string {
    const script = `fetch('http://127.0.0.1:${port}${urlPath}').then(r=>r.text()).then(t=>process.stdout.write(t),e=>{console.error(e);process.exit(1)})`;
    return this.podman(['exec', container, 'node', '-e', script]).stdout;
  }

  logs(service: string): string {
    const r = this.compose(['logs', '--no-color', '--tail', '200', service], { allowFail: true });
    return r.stdout + r.stderr;
  }

  /**
   * Creates the project's nats-secrets volume with every password starting with a letter,
   * before compose's nats-secrets service (which keeps existing files) would generate them.
   * Only for the test's NATS, Debian's nats-server 2.9: its config lexer reads a `$VAR`
   * whose value starts with digits as a number and fails ("Expected a digit but got '_'"),
   * which a random base64url password does about one time in six per user.
   */
  seedNatsSecrets(image = 'docker.io/library/nats:2.10-alpine'): void {
    const volume = `${this.project}_nats-secrets`;
    this.podman(['volume', 'rm', '-f', volume], { allowFail: true });
    this.podman(['volume', 'create', '--label', `com.docker.compose.project=${this.project}`, '--label', 'com.docker.compose.volume=nats-secrets', volume]);
    const script =
      'umask 077 && cd /secrets && for u in detector reid sfu gateway cli; do ' +
      "printf 'k%s' \"$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\\n')\" > $u; done && " +
      'chown 10001:10001 detector reid sfu gateway && chmod 0400 detector reid sfu gateway cli';
    this.podman(['run', '--rm', '--entrypoint', 'sh', '-v', `${volume}:/secrets`, image, '-c', script]);
  }

  /** `docker-compose down -v`: containers, the network and the volumes. */
  down(): void {
    this.compose(['down', '-v', '--remove-orphans', '-t', '20'], { allowFail: true, timeoutMs: 180_000 });
  }
}

/** The value of a Prometheus counter summed over its label sets (0 when absent). */
export function counterSum(metrics: string, name: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}
