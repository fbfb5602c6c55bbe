import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { spawnProcess, type Spawned } from './processes.js';
import { ROOT } from './services.js';

export interface NatsServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A real nats-server with JetStream on a free loopback port, storing in a temp dir. */
export async function startNatsServer(extraArgs: string[] = []): Promise<NatsServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-nats-'));
  const monitor = await freePort();
  const args = ['-c', path.join(ROOT, 'deploy/nats.conf'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-js', '-sd', dir, ...extraArgs];
  const proc: Spawned = spawnProcess('nats-server', 'nats-server', args);
  await proc.waitForLine((l) => l.includes('Server is ready'));
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
