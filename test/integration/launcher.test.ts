import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { childPids, processCommandLine } from '@lookout/service-kit';
import { freePorts, isAlive, spawnProcess, stopAllProcesses, ROOT } from '@lookout/testkit';

async function describeAlive(pids: number[]): Promise<string[]> {
  const alive = pids.filter(isAlive);
  return Promise.all(alive.map(async (pid) => `${pid} ${(await processCommandLine(pid))?.join(' ') ?? ''}`));
}

describe('npm start (scripts/start.mjs)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-start-'));
  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** `npm start` on free ports with its data in a temp dir; resolves with the process and the gateway port. */
  async function startLauncher(env: NodeJS.ProcessEnv) {
    const [port, natsPort, monitorPort] = await freePorts(3);
    const launcher = spawnProcess('launcher', process.execPath, ['scripts/start.mjs'], {
      PORT: String(port),
      NATS_PORT: String(natsPort),
      NATS_MONITOR_PORT: String(monitorPort),
      DATA_DIR: dataDir,
      NATS_URL: '',
      LOG_FORMAT: 'json',
      ...env,
    }, ROOT);
    return { launcher, port, natsPort };
  }

  it('brings up NATS and every service, serves the dashboard, and stops them all on SIGTERM', async () => {
    const { launcher, port, natsPort } = await startLauncher({ MEDIASOUP_WORKERS: '1' });
    const line = await launcher.waitForLine((l) => l.includes('Dashboard:'), 90_000);
    expect(line).toContain(`http://127.0.0.1:${port}/`);

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('<title>Lookout</title>');
    expect(fs.existsSync(path.join(dataDir, 'nats', 'jetstream'))).toBe(true);

    // The local NATS requires a user (one per service, all up above, and cli): none, or a wrong password, is refused.
    const servers = `nats://127.0.0.1:${natsPort}`;
    await expect(connect({ servers, reconnect: false })).rejects.toThrow(/authoriz/i);
    await expect(connect({ servers, reconnect: false, user: 'cli', pass: 'not-the-password' })).rejects.toThrow(/authoriz/i);
    const usersFile = path.join(dataDir, 'nats-users.json');
    expect(fs.statSync(usersFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, 'nats-server.conf')).mode & 0o777).toBe(0o600);
    const users = JSON.parse(fs.readFileSync(usersFile, 'utf8')) as Record<string, string>;
    expect(Object.keys(users).sort()).toEqual(['cli', 'detector', 'gateway', 'reid', 'sfu']);
    await (await connect({ servers, reconnect: false, user: 'cli', pass: users.cli })).close();
    // No password on any command line.
    const children = await childPids(launcher.child.pid!);
    for (const pid of children) {
      const line = (await processCommandLine(pid))?.join(' ') ?? '';
      for (const password of Object.values(users)) expect(line).not.toContain(password);
    }

    const pids = launcher.output.flatMap((l) => {
      const m = /"mediasoupWorkers":\[(\d+)/.exec(l);
      return m ? [Number(m[1])] : [];
    });
    expect(children).toHaveLength(5); // nats-server + four services
    expect(pids).toHaveLength(1);

    expect(await launcher.stop(20_000)).toBe(0);
    expect(await describeAlive([...children, ...pids])).toEqual([]);
  }, 180_000);

  it('stops everything it started when a service fails to start', async () => {
    // Only the detector reads this; it fails loading the model after its health server is up,
    // so the line awaited below comes whatever the order the services start in.
    const { launcher } = await startLauncher({ DETECTOR_MODEL: 'no-such-model.onnx' });
    await launcher.waitForLine((l) => l.includes('"msg":"health server listening"'), 60_000);
    const children = await childPids(launcher.child.pid!);
    const { code } = await launcher.exited;
    expect(code).toBe(1);
    expect(launcher.output.some((l) => l.includes('no-such-model.onnx'))).toBe(true);
    expect(await describeAlive(children)).toEqual([]);
  }, 120_000);

  it('names the variable to change when a port it needs is taken, and starts nothing', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const { launcher } = await startLauncher({ NATS_MONITOR_PORT: String(taken) });
      const { code } = await launcher.exited;
      expect(code).toBe(1);
      expect(launcher.output.join('\n')).toContain(`port ${taken} (NATS monitoring) is not free on 127.0.0.1 (EADDRINUSE); set NATS_MONITOR_PORT`);
      expect(launcher.output.some((l) => l.includes('Starting nats-server'))).toBe(false);
    } finally {
      holder.close();
    }
  }, 60_000);
});
