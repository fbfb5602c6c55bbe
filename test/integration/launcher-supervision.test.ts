// npm start (scripts/start.mjs) restarts what dies: a SIGKILLed service comes back on its
// own while the others keep running, and a SIGKILLed nats-server comes back on the same
// port and data dir, where every service reconnects by itself. The restart policy's
// backoff and give-up are unit-tested in test/repo/supervisor.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childPids, processCommandLine } from '@lookout/service-kit';
import { freePorts, isAlive, spawnProcess, stopAllProcesses, ROOT, type Spawned } from '@lookout/testkit';

const NAMES = ['nats-server', 'detector', 'reid', 'sfu', 'gateway'] as const;
type Name = (typeof NAMES)[number];

/** The launcher's children by name, from their command lines. */
async function childrenByName(launcherPid: number): Promise<Map<Name, number>> {
  const out = new Map<Name, number>();
  for (const pid of await childPids(launcherPid)) {
    const argv = (await processCommandLine(pid)) ?? [];
    const name = NAMES.find((n) => (n === 'nats-server' ? path.basename(argv[0] ?? '') === n : argv.some((a) => a.endsWith(path.join('services', n, 'dist', 'main.js')))));
    if (name) out.set(name, pid);
  }
  return out;
}

/** Polls `url` until it answers 200; a service that just reconnected may need a moment to say it is ready. */
async function until200(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not 200 within ${timeoutMs} ms; last: ${last}`);
}

describe('npm start supervises its services', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-supervise-'));
  let launcher: Spawned;
  let port: number;

  beforeAll(async () => {
    const [gatewayPort, natsPort, monitorPort] = await freePorts(3);
    port = gatewayPort!;
    launcher = spawnProcess(
      'launcher',
      process.execPath,
      ['scripts/start.mjs'],
      { PORT: String(port), NATS_PORT: String(natsPort), NATS_MONITOR_PORT: String(monitorPort), DATA_DIR: dataDir, NATS_URL: '', LOG_FORMAT: 'json', MEDIASOUP_WORKERS: '1' },
      ROOT,
    );
    await launcher.waitForLine((l) => l.includes('Dashboard:'), 120_000);
  }, 150_000);

  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('restarts a SIGKILLed service, which serves again, and leaves the others running', async () => {
    const before = await childrenByName(launcher.child.pid!);
    expect([...before.keys()].sort()).toEqual([...NAMES].sort());

    const isReidMetrics = (l: string) => /^\[lookout\] reid +metrics: /.test(l);
    await launcher.waitForLine(isReidMetrics);
    process.kill(before.get('reid')!, 'SIGKILL');
    await launcher.waitForLine((l) => l === '[lookout] reid exited (signal SIGKILL); restarting in 1 s (restart 1)', 30_000);
    await launcher.waitForLine((l) => l.startsWith('[lookout] reid is back after restart 1 '), 120_000);
    // Printed after "is back": the restarted reid's new port (HTTP_PORT=0). The second such
    // line, counted rather than compared: the new port may by chance be the old one.
    let seen = 0;
    const metrics = await launcher.waitForLine((l) => isReidMetrics(l) && ++seen === 2);
    const reidUrl = /(http:\/\/\S+)\/metrics/.exec(metrics)![1];
    expect((await fetch(`${reidUrl}/readyz`)).status).toBe(200);

    const after = await childrenByName(launcher.child.pid!);
    expect(after.get('reid')).not.toBe(before.get('reid'));
    expect(isAlive(before.get('reid')!)).toBe(false);
    for (const name of NAMES.filter((n) => n !== 'reid')) expect([name, after.get(name)]).toEqual([name, before.get(name)]);
    await until200(`http://127.0.0.1:${port}/readyz`, 60_000);
  }, 180_000);

  it('restarts a SIGKILLed nats-server on the same port and data, and every service reconnects without restarting', async () => {
    const before = await childrenByName(launcher.child.pid!);
    const reconnectedBefore = launcher.output.filter((l) => l.includes('"msg":"NATS reconnected"')).length;

    process.kill(before.get('nats-server')!, 'SIGKILL');
    await launcher.waitForLine((l) => l === '[lookout] nats-server exited (signal SIGKILL); restarting in 1 s (restart 1)', 30_000);
    await launcher.waitForLine((l) => l.startsWith('[lookout] nats-server is back after restart 1 '), 60_000);
    // Each service's connection retries forever (service-kit nats.ts) and finds the server again.
    for (const service of ['detector', 'reid', 'sfu', 'gateway']) {
      await launcher.waitForLine((l) => l.includes('"msg":"NATS reconnected"') && l.includes(`"service":"${service}"`), 60_000);
    }
    expect(launcher.output.filter((l) => l.includes('"msg":"NATS reconnected"')).length).toBeGreaterThanOrEqual(reconnectedBefore + 4);
    await until200(`http://127.0.0.1:${port}/readyz`, 60_000);

    const after = await childrenByName(launcher.child.pid!);
    expect(after.get('nats-server')).not.toBe(before.get('nats-server'));
    for (const name of NAMES.filter((n) => n !== 'nats-server')) expect([name, after.get(name)]).toEqual([name, before.get(name)]);
    expect(launcher.output).not.toContain('[lookout] stopping…');
  }, 180_000);

  it('still stops everything on SIGTERM, with exit code 0', async () => {
    const children = [...(await childrenByName(launcher.child.pid!)).values()];
    expect(await launcher.stop(30_000)).toBe(0);
    expect(children.filter(isAlive)).toEqual([]);
  }, 60_000);
});

describe('npm start gives up on a service that keeps dying', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-give-up-'));
  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says which service, how often and its last lines, stops everything and exits 1', async () => {
    const [port, natsPort, monitorPort] = await freePorts(3);
    // RESTART_MAX=0: the first crash is already one too many (the policy's arithmetic is unit-tested).
    const launcher = spawnProcess(
      'launcher',
      process.execPath,
      ['scripts/start.mjs'],
      { PORT: String(port), NATS_PORT: String(natsPort), NATS_MONITOR_PORT: String(monitorPort), DATA_DIR: dataDir, NATS_URL: '', LOG_FORMAT: 'json', MEDIASOUP_WORKERS: '1', RESTART_MAX: '0' },
      ROOT,
    );
    await launcher.waitForLine((l) => l.includes('Dashboard:'), 120_000);
    const children = await childrenByName(launcher.child.pid!);
    process.kill(children.get('sfu')!, 'SIGKILL');
    const { code } = await launcher.exited;
    expect(code).toBe(1);
    const giveUp = launcher.output.find((l) => l.startsWith('[lookout] giving up: '));
    expect(giveUp).toMatch(/^\[lookout\] giving up: sfu crashed 1 time in 0 s \(last: signal SIGKILL; more than RESTART_MAX=0 restarts within RESTART_WINDOW_S=120\); its last (stderr|output) lines:$/);
    expect(launcher.output).toContain('[lookout] stopping…');
    expect([...children.values()].filter(isAlive)).toEqual([]);
  }, 180_000);
});
