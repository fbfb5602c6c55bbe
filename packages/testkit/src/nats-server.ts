import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnProcess, type Spawned } from './processes.js';
import { ROOT } from './services.js';

export interface NatsServer {
  url: string;
  port: number;
  /** HTTP monitoring port (/varz, /jsz). */
  monitorPort: number;
  /** JetStream's store directory (`-sd`). */
  storeDir: string;
  stop(): Promise<void>;
}

/**
 * A real nats-server with JetStream on loopback, storing in a temp dir. Both ports are
 * picked by nats-server itself (-1) and read from its log: a port chosen here and then
 * handed over could be taken in between by a process of the other test file jest runs.
 * With `storeDir` the store is the caller's: it outlives `stop()` (to be read afterwards,
 * or by a server started again on it), and the caller removes it.
 */
export async function startNatsServer(extraArgs: string[] = [], opts: { storeDir?: string } = {}): Promise<NatsServer> {
  const dir = opts.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-nats-'));
  const args = ['-c', path.join(ROOT, 'deploy/nats.conf'), '-a', '127.0.0.1', '-p', '-1', '-m', '-1', '-js', '-sd', dir, ...extraArgs];
  const proc: Spawned = spawnProcess('nats-server', 'nats-server', args);
  await proc.waitForLine((l) => l.includes('Server is ready'));
  const port = loggedPort(proc.output, 'Listening for client connections on');
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort: loggedPort(proc.output, 'Starting http monitor on'),
    storeDir: dir,
    async stop() {
      await proc.stop();
      if (!opts.storeDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The port at the end of the first log line containing `marker` ("… on 127.0.0.1:4222"). */
export function loggedPort(lines: readonly string[], marker: string): number {
  const line = lines.find((l) => l.includes(marker));
  const port = Number(/:(\d+)\s*$/.exec(line ?? '')?.[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`nats-server: no "${marker}" line with a port; output:\n${lines.slice(-20).join('\n')}`);
  return port;
}
