import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnProcess, stopAllProcesses, ROOT } from '@lookout/testkit';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function describeProcess(pid: number): string {
  try {
    return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`;
  } catch {
    return String(pid);
  }
}

describe('npm start (scripts/start.mjs)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-start-'));
  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** `npm start` on free ports with its data in a temp dir; resolves with the process and the gateway port. */
  async function startLauncher(env: NodeJS.ProcessEnv) {
    const [port, natsPort, monitorPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const launcher = spawnProcess('launcher', process.execPath, ['scripts/start.mjs'], {
      PORT: String(port),
      NATS_PORT: String(natsPort),
      NATS_MONITOR_PORT: String(monitorPort),
      DATA_DIR: dataDir,
      NATS_URL: '',
      LOG_FORMAT: 'json',
      ...env,
    }, ROOT);
    return { launcher, port };
  }

  const childrenOf = (pid: number) => fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);

  it('brings up NATS and every service, serves the dashboard, and stops them all on SIGTERM', async () => {
    const { launcher, port } = await startLauncher({ MEDIASOUP_WORKERS: '1' });
    const line = await launcher.waitForLine((l) => l.includes('Dashboard:'), 90_000);
    expect(line).toContain(`http://127.0.0.1:${port}/`);

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('<title>Lookout</title>');
    expect(fs.existsSync(path.join(dataDir, 'nats', 'jetstream'))).toBe(true);

    const pids = launcher.output.flatMap((l) => {
      const m = /"mediasoupWorkers":\[(\d+)/.exec(l);
      return m ? [Number(m[1])] : [];
    });
    const childPids = childrenOf(launcher.child.pid!);
    expect(childPids).toHaveLength(5); // nats-server + four services
    expect(pids).toHaveLength(1);

    expect(await launcher.stop(20_000)).toBe(0);
    const alive = [...childPids, ...pids].filter(isAlive).map(describeProcess);
    expect(alive).toEqual([]);
  });

  it('stops everything it started when a service fails to start', async () => {
    // The detector refuses this value and exits.
    const { launcher } = await startLauncher({ MAX_FRAME_AGE_MS: 'soon' });
    await launcher.waitForLine((l) => l.includes('"msg":"health server listening"'), 60_000);
    const children = childrenOf(launcher.child.pid!);
    const { code } = await launcher.exited;
    expect(code).toBe(1);
    expect(launcher.output.some((l) => l.includes('MAX_FRAME_AGE_MS'))).toBe(true);
    expect(children.filter(isAlive).map(describeProcess)).toEqual([]);
  });
});
