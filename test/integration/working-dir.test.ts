// Services started from a directory other than the repository root (systemd, a container
// WORKDIR, `node /abs/path/services/x/dist/main.js`) find their models and the web app:
// relative defaults are taken from the install root, never from the working directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_GATEWAY_ENV, startNatsServer, startService, stopAllProcesses, type NatsServer } from '@lookout/testkit';

describe('services started from another working directory', () => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-cwd-'));
  let nats: NatsServer | undefined;

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await stopAllProcesses();
    await nats?.stop();
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  it('detector and reid load their default models; the gateway serves the web app', async () => {
    const cwd = { cwd: elsewhere };
    const [detector, reid, gateway] = await Promise.all([
      startService('detector', nats!.url, {}, cwd),
      startService('reid', nats!.url, {}, cwd),
      startService('gateway', nats!.url, TEST_GATEWAY_ENV, cwd),
    ]);
    expect((await detector.get('/readyz')).status).toBe(200);
    expect((await reid.get('/readyz')).status).toBe(200);
    const page = await gateway.get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Lookout</title>');
    expect(gateway.output.some((l) => l.includes('no web app there'))).toBe(false);
  }, 180_000);
});
