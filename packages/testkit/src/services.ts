import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from '@lookout/contracts';
import { spawnProcess, type Spawned } from './processes.js';

/** The repository root (this file lives in packages/testkit/src or dist). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Test data carried by the repository (test/fixtures/README.md: sources and licences). */
export const FIXTURES = path.resolve(ROOT, 'test/fixtures');

export interface RunningService extends Spawned {
  httpPort: number;
  /** GET on the service's HTTP port. */
  get(pathname: string): Promise<{ status: number; body: string }>;
}

export interface StartOptions {
  /** Working directory of the process (default: the repository root). */
  cwd?: string;
  /** How long to wait for "ready" (default 120 s: eight services starting at once on 2 busy cores take ~10 s). */
  readyTimeoutMs?: number;
}

/**
 * Starts a built service (services/<name>/dist/main.js) as a real process, exactly as
 * `npm start` would, and resolves once it logged "ready" (subscriptions flushed). It
 * listens on a port it picks itself (HTTP_PORT=0, unless `env` sets one) and reports in
 * its ready line: no window in which another process can take a port chosen for it.
 */
export async function startService(name: ServiceName, natsUrl: string, env: NodeJS.ProcessEnv = {}, opts: StartOptions = {}): Promise<RunningService> {
  const proc = spawnProcess(
    name,
    process.execPath,
    // LOOKOUT_SERVICE_NODE_ARGS: extra node flags for every service started (e.g. --cpu-prof to profile a bench).
    [...(process.env.LOOKOUT_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), path.join(ROOT, 'services', name, 'dist', 'main.js')],
    { NATS_URL: natsUrl, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', INSTANCE_ID: `${name}-test`, ...env },
    opts.cwd ?? ROOT,
  );
  const ready = await proc.waitForLine((l) => l.includes('"msg":"ready"'), opts.readyTimeoutMs ?? 120_000);
  const httpPort = readyPort(ready);
  return {
    ...proc,
    httpPort,
    async get(pathname) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${pathname}`);
      return { status: res.status, body: await res.text() };
    },
  };
}

/** The HTTP port a service's ready line reports (`httpPort`, or the gateway's `port`). */
export function readyPort(line: string): number {
  const { httpPort, port } = JSON.parse(line) as { httpPort?: number; port?: number };
  const found = httpPort ?? port;
  if (!Number.isInteger(found) || found! <= 0) throw new Error(`no HTTP port in the ready line: ${line}`);
  return found!;
}

/** Reads one sample of a Prometheus counter/gauge whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}
