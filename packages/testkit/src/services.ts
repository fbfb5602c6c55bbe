import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { spawnProcess, type Spawned } from './processes.js';

/** The repository root (this file lives in packages/testkit/src or dist). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Test data carried by the repository (test/fixtures/README.md: sources and licences). */
export const FIXTURES = path.resolve(ROOT, 'test/fixtures');

export type ServiceName = 'sfu' | 'detector' | 'reid' | 'gateway';

export interface RunningService extends Spawned {
  httpPort: number;
  /** GET on the service's HTTP port. */
  get(pathname: string): Promise<{ status: number; body: string }>;
}

/**
 * Starts a built service (services/<name>/dist/main.js) as a real process, exactly as
 * `npm start` would, and resolves once it logged "ready" (subscriptions flushed).
 */
export async function startService(name: ServiceName, natsUrl: string, env: NodeJS.ProcessEnv = {}): Promise<RunningService> {
  const httpPort = await freePort();
  const proc = spawnProcess(
    name,
    process.execPath,
    [path.join(ROOT, 'services', name, 'dist', 'main.js')],
    { NATS_URL: natsUrl, HTTP_PORT: String(httpPort), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', INSTANCE_ID: `${name}-test`, ...env },
    ROOT,
  );
  await proc.waitForLine((l) => l.includes('"msg":"ready"'), 60_000);
  return {
    ...proc,
    httpPort,
    async get(pathname) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${pathname}`);
      return { status: res.status, body: await res.text() };
    },
  };
}

/** Reads one sample of a Prometheus counter/gauge whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}
